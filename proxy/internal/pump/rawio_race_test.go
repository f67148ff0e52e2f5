//go:build linux && race

package pump

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A raw read writes into its buffer where Go code cannot see it, so the
// race detector must be told (raceIODone), or a pool buffer touched while
// the kernel fills it would go unreported. The race runs in a child
// process, since a reported race fails the binary it happens in.
func TestRaceDetectorSeesRawReads(t *testing.T) {
	if os.Getenv("PASSTUNNEL_RAW_RACE_CHILD") == "1" {
		racyRawRead(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRaceDetectorSeesRawReads$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PASSTUNNEL_RAW_RACE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "WARNING: DATA RACE") || !strings.Contains(string(out), "rawIO") {
		t.Fatalf("the race detector did not report a write into a buffer during a raw read (%v):\n%s", err, out)
	}
}

// racyRawRead reads a socket into a buffer on one goroutine while this one
// writes to the buffer with nothing ordering the two.
func racyRawRead(t *testing.T) {
	in, out := tcpPair(t)
	rc := rawConnOf(out)
	if rc == nil {
		t.Fatal("no raw socket access")
	}
	if _, err := in.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	done := make(chan error, 1)
	go func() {
		done <- rc.Read(func(fd uintptr) bool {
			_, err := rawRead(fd, buf)
			return !errAgain(err)
		})
	}()
	buf[0] = 2 // races with the kernel's write, as the detector must see
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
