package daemon

import (
	"testing"

	"golang.org/x/sys/unix"
)

// raiseDescriptorLimit lifts a soft limit below the hard one to it. Not
// parallel: it changes the limit of the test process, and puts it back.
func TestRaiseDescriptorLimit(t *testing.T) {
	var orig unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
			t.Errorf("restore the descriptor limit: %v", err)
		}
	})
	if orig.Max < 2048 {
		t.Skipf("hard descriptor limit %d: too low to lower the soft one safely", orig.Max)
	}
	lowered := unix.Rlimit{Cur: orig.Max / 2, Max: orig.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	soft, hard, err := raiseDescriptorLimit()
	if err != nil || soft != orig.Max || hard != orig.Max {
		t.Fatalf("raiseDescriptorLimit = %d, %d, %v; want %d, %d", soft, hard, err, orig.Max, orig.Max)
	}
	var now unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &now); err != nil || now.Cur != orig.Max {
		t.Fatalf("soft limit now %d (%v), want %d", now.Cur, err, orig.Max)
	}
}
