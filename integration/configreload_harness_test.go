package integration

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// reloadTimeout bounds one reload, from the trigger to its result line.
const reloadTimeout = 15 * time.Second

// reloadable is a `passtunnel run` whose config file the test rewrites.
type reloadable struct {
	*proc
	path string
}

// startReloadable writes text as the config and runs passtunnel on it.
func startReloadable(t *testing.T, text string) *reloadable {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passtunnel.hcl")
	replaceFile(t, path, text)
	return runReloadable(t, path)
}

// runReloadable runs passtunnel on the config file at path, which the test
// then rewrites, with flags added.
func runReloadable(t *testing.T, path string, flags ...string) *reloadable {
	t.Helper()
	return &reloadable{startProc(t, binPath, append([]string{"run", "-config", path}, flags...), procOpts{}), path}
}

// replaceFile writes text beside path and renames it over path, as editors
// and config management tools do: a reader sees the old file or the new one,
// never half of one.
func replaceFile(t testing.TB, path, text string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// isReloadResult matches the one line every reload ends with.
func isReloadResult(e logEntry) bool {
	return e.str("msg") == "config reloaded" || e.str("msg") == "config reload refused"
}

func isSIGHUPResult(e logEntry) bool { return isReloadResult(e) && e.str("trigger") == "SIGHUP" }

// reload rewrites the config, sends SIGHUP and returns the result of the
// reload that applied the new text.
func (r *reloadable) reload(t *testing.T, text string) logEntry {
	t.Helper()
	n, hups := len(r.logs(isReloadResult)), len(r.logs(isSIGHUPResult))
	replaceFile(t, r.path, text)
	r.signal(t, syscall.SIGHUP)
	res := r.nextResult(t, n)
	// On a slow machine the file watcher can see the edit before the
	// signal arrives; the SIGHUP reload after it then finds nothing to do.
	// Waiting for that one too keeps the next call's count right.
	r.waitLogs(t, reloadTimeout, hups+1, "result of the SIGHUP reload", isSIGHUPResult)
	return res
}

// nextResult waits for the reload result after the first n.
func (r *reloadable) nextResult(t *testing.T, n int) logEntry {
	t.Helper()
	return r.waitLogs(t, reloadTimeout, n+1, "config reload result", isReloadResult)[n]
}

// expectCounts checks a "config reloaded" line's tunnel counts.
func expectCounts(t *testing.T, e logEntry, added, removed, changed, unchanged int) {
	t.Helper()
	if e.str("msg") != "config reloaded" {
		t.Fatalf("reload result %q (error %q), want config reloaded", e.str("msg"), e.str("error"))
	}
	got := [4]float64{e.num("added"), e.num("removed"), e.num("changed"), e.num("unchanged")}
	if want := [4]float64{float64(added), float64(removed), float64(changed), float64(unchanged)}; got != want {
		t.Fatalf("reload counts added/removed/changed/unchanged = %v, want %v", got, want)
	}
}

// listeningCount is how many times the named tunnel reported a listener.
func (r *reloadable) listeningCount(name string) int {
	return len(r.logs(logMatch("tunnel listening", "tunnel", name)))
}

// greeter is a backend that says its name on every connection, then echoes
// lines: a connection shows which target it reached.
func greeter(t *testing.T, name string) *backend {
	return startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		if _, err := io.WriteString(c, name+"\n"); err == nil {
			echo(c)
		}
	})
}

// session is one open TLS connection through a tunnel, reading lines.
type session struct {
	c net.Conn
	r *bufio.Reader
}

// openSession connects with TLS to a tcp or unix: address and reads the
// backend's greeting, which must be want.
func (f *fixture) openSession(t *testing.T, addr, want string) *session {
	t.Helper()
	tc := tls.Client(dial(t, addr), f.clientTLS(f.client))
	s := &session{c: tc, r: bufio.NewReader(tc)}
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	got, err := s.r.ReadString('\n')
	if err != nil || strings.TrimSuffix(got, "\n") != want {
		t.Fatalf("greeting from %s: %q (%v), want %q", addr, got, err, want)
	}
	return s
}

func (s *session) echo(t *testing.T, line string) {
	t.Helper()
	roundTrip(t, s.c, s.r, line, line)
}

// unixGone polls until nothing accepts on a unix socket path any more.
func unixGone(t *testing.T, addr string) {
	t.Helper()
	path := strings.TrimPrefix(addr, "unix:")
	testwait.Poll(t, reloadTimeout, func() error {
		c, err := net.DialTimeout("unix", path, time.Second)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		if err == nil {
			c.Close()
		}
		return fmt.Errorf("%s still accepts connections (dial: %v)", addr, err)
	})
}
