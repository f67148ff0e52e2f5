package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// noFile reads (limit < 0) or sets the soft descriptor limit of a running
// process, with prlimit, and returns it.
func noFile(t testing.TB, prlimit string, pid, limit int) int {
	t.Helper()
	args := []string{"--pid", strconv.Itoa(pid), "--nofile", "--output", "SOFT", "--noheadings"}
	if limit >= 0 {
		args = []string{"--pid", strconv.Itoa(pid), fmt.Sprintf("--nofile=%d:", limit)}
	}
	out, err := exec.Command(prlimit, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("prlimit %v: %v: %s", args, err, out)
	}
	if limit >= 0 {
		return limit
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("prlimit %v: %q: %v", args, out, err)
	}
	return n
}

// openFDs counts the descriptors process pid holds.
func openFDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents), err
}

// TestOutOfDescriptorsIsNoConfigChange: a config file event that comes
// while the process is out of descriptors cannot be read; that is not a
// change. It was: the reload that followed could not read the file either,
// was refused and logged an ERROR, and counted as a refused reload. Once
// descriptors are back, a real change is still reloaded.
func TestOutOfDescriptorsIsNoConfigChange(t *testing.T) {
	t.Parallel()
	prlimit := needProgram(t, "prlimit")
	f := newFixture(t)
	text := "admin = \"127.0.0.1:0\"\n" + configText(f.serverTun("s", "127.0.0.1:0", startEcho(t).addr))
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	pt := startProc(t, binPath, []string{"run", "-config", path}, procOpts{})
	admin := pt.adminAddr(t, 0)
	pt.listenAddr(t, "s")
	pt.mustLog(t, ioTimeout, "the sandbox line", func(e logEntry) bool { return strings.HasPrefix(e.str("msg"), "sandbox: ") })
	pid := pt.cmd.Process.Pid

	// Fill the last descriptors with admin connections that say nothing
	// (each is held for the admin's 5 s header timeout; the ones queued
	// behind take their place).
	open, err := openFDs(pid)
	if err != nil {
		t.Fatal(err)
	}
	soft := noFile(t, prlimit, pid, -1)
	noFile(t, prlimit, pid, open+16)
	for range 200 {
		c, err := net.DialTimeout("tcp", admin, ioTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	testwait.Poll(t, ioTimeout, func() error {
		if n, err := openFDs(pid); err != nil || n < open+16 {
			return fmt.Errorf("%d descriptors open, want %d (%v)", n, open+16, err)
		}
		return nil
	})

	// The same bytes written again: an event, and a read that fails.
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := logMatch("config reload refused")
	if e, ok := pt.waitLog(3*time.Second, refused); ok { // the debounce is 300 ms
		t.Fatalf("out of descriptors, a config event was taken for a change: %v", e)
	}
	noFile(t, prlimit, pid, soft)
	if err := os.WriteFile(path, []byte(text+"# changed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pt.mustLog(t, ioTimeout, "the real change reloaded", logMatch("config reloaded", "trigger", "file change"))
	if e := pt.logs(refused); len(e) > 0 {
		t.Errorf("config reload refused: %v", e)
	}
}
