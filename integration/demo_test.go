package integration

import (
	"bufio"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs `passtunnel demo` as a newcomer would: it must print a
// successful loop, accept a line by hand through the printed client port,
// and exit 0 on Ctrl-C.
func TestDemo(t *testing.T) {
	t.Parallel()
	p := startProc(t, binPath, []string{"demo"}, procOpts{})
	p.mustLine(t, p.stdout, 20*time.Second, `"Press Ctrl-C"`, func(l string) bool {
		return strings.HasPrefix(l, "Press Ctrl-C")
	})
	lines, _ := p.stdout.snapshot()
	var received, ncAddr string
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) > 1 && f[0] == "received":
			received = strings.Join(f[1:], " ")
		case len(f) == 3 && f[0] == "nc":
			ncAddr = f[1] + ":" + f[2]
		}
	}
	if received != `"hello through passtunnel"` {
		t.Fatalf("demo did not report the echoed line; stdout:\n%s", strings.Join(lines, "\n"))
	}
	if ncAddr == "" {
		t.Fatalf("demo printed no `nc HOST PORT` line; stdout:\n%s", strings.Join(lines, "\n"))
	}
	c := dial(t, ncAddr)
	roundTrip(t, c, bufio.NewReader(c), "typed by hand", "typed by hand")
	c.Close()

	p.signal(t, syscall.SIGINT)
	if code := p.mustExit(t, 10*time.Second); code != 0 {
		t.Fatalf("demo exited %d after SIGINT, want 0", code)
	}
}
