package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lineBuffer collects a process's output as lines and wakes waiters on
// every write. It is safe for concurrent use.
type lineBuffer struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	changed chan struct{}
}

func newLineBuffer() *lineBuffer { return &lineBuffer{changed: make(chan struct{})} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, strings.TrimRight(string(b.partial[:i]), "\r"))
		b.partial = append([]byte(nil), b.partial[i+1:]...)
	}
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

// snapshot returns the complete lines, then the unfinished one if any, and a
// channel closed by the next write.
func (b *lineBuffer) snapshot() ([]string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := append([]string(nil), b.lines...)
	if len(b.partial) > 0 {
		lines = append(lines, string(b.partial))
	}
	return lines, b.changed
}

func (b *lineBuffer) String() string {
	lines, _ := b.snapshot()
	return strings.Join(lines, "\n")
}

// wait returns the first line that matches, waiting for more output until
// timeout or until exited is closed (then all output has been written).
func (b *lineBuffer) wait(exited <-chan struct{}, timeout time.Duration, match func(string) bool) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		lines, changed := b.snapshot()
		for _, l := range lines {
			if match(l) {
				return l, true
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			return "", false
		case <-exited:
			lines, _ := b.snapshot()
			for _, l := range lines {
				if match(l) {
					return l, true
				}
			}
			return "", false
		}
	}
}

// proc is a child process in its own process group with captured output.
type proc struct {
	t      testing.TB
	label  string
	cmd    *exec.Cmd
	stdin  io.WriteCloser // set when procOpts.stdin
	stdout *lineBuffer
	stderr *lineBuffer
	// secretStdout: see procOpts
	secretStdout bool
	done         chan struct{}
	state        *os.ProcessState // valid after done is closed
}

type procOpts struct {
	stdin bool     // give the process a stdin pipe instead of /dev/null
	env   []string // added to the test's environment
	dir   string
	// secretStdout: stdout holds a secret the process made (pki
	// passphrase), so a failed test does not log it.
	secretStdout bool
	user         *syscall.Credential // run as this user (the test must be root)
	files        []*os.File          // inherited as fd 3, 4, ... (exec.Cmd.ExtraFiles)
}

// startProc starts name with args. The process group is killed and reaped in
// t.Cleanup; its output is logged only if the test failed.
func startProc(t testing.TB, name string, args []string, opts procOpts) *proc {
	t.Helper()
	p := &proc{
		t:            t,
		label:        filepath.Base(name),
		stdout:       newLineBuffer(),
		stderr:       newLineBuffer(),
		done:         make(chan struct{}),
		secretStdout: opts.secretStdout,
	}
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: opts.user}
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	cmd.Dir = opts.dir
	cmd.ExtraFiles = opts.files
	cmd.WaitDelay = 2 * time.Second
	if len(opts.env) > 0 {
		cmd.Env = append(os.Environ(), opts.env...)
	}
	if opts.stdin {
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatalf("%s: stdin pipe: %v", p.label, err)
		}
		p.stdin = w
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.label, err)
	}
	p.cmd = cmd
	p.label = fmt.Sprintf("%s[%d]", p.label, cmd.Process.Pid)
	recordProc(p) // its output is scanned for passphrases after the suite
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: not reaped 10s after SIGKILL", p.label)
		}
		if t.Failed() {
			p.dump()
		}
	})
	return p
}

// kill sends SIGKILL to the whole process group.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// signal sends sig to the process itself.
func (p *proc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: signal %v: %v", p.label, sig, err)
	}
}

// exited reports whether the process has been reaped.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitExit waits up to timeout and returns the exit code (-1 if killed by a
// signal); ok is false on timeout.
func (p *proc) waitExit(timeout time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
		return p.state.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// mustExit fails the test unless the process exits within timeout.
func (p *proc) mustExit(t testing.TB, timeout time.Duration) int {
	t.Helper()
	code, ok := p.waitExit(timeout)
	if !ok {
		t.Fatalf("%s: still running after %v", p.label, timeout)
	}
	return code
}

// dump logs the captured output, the tail of it when it is long.
func (p *proc) dump() {
	const max = 16 << 10
	for _, s := range []struct {
		name string
		b    *lineBuffer
	}{{"stdout", p.stdout}, {"stderr", p.stderr}} {
		out := s.b.String()
		if out == "" {
			continue
		}
		if s.b == p.stdout && p.secretStdout {
			p.t.Logf("%s stdout: %d lines, withheld: they hold a secret", p.label, strings.Count(out, "\n")+1)
			continue
		}
		if len(out) > max {
			out = "...\n" + out[len(out)-max:]
		}
		p.t.Logf("%s %s:\n%s", p.label, s.name, out)
	}
}

// mustLine waits for a line of b (p.stdout or p.stderr) that matches.
func (p *proc) mustLine(t testing.TB, b *lineBuffer, timeout time.Duration, what string, match func(string) bool) string {
	t.Helper()
	l, ok := b.wait(p.done, timeout, match)
	if !ok {
		t.Fatalf("%s: no output line %s within %v (exited: %v)", p.label, what, timeout, p.exited())
	}
	return l
}

// logEntry is one JSON log line of passtunnel.
type logEntry map[string]any

func (e logEntry) str(key string) string {
	v, ok := e[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

func (e logEntry) num(key string) float64 {
	f, _ := e[key].(float64)
	return f
}

func parseLog(line string) (logEntry, bool) {
	if !strings.HasPrefix(line, "{") {
		return nil, false
	}
	var e logEntry
	if json.Unmarshal([]byte(line), &e) != nil {
		return nil, false
	}
	return e, true
}

// logMatch matches entries with the given msg and key=value pairs.
func logMatch(msg string, kv ...string) func(logEntry) bool {
	return func(e logEntry) bool {
		if msg != "" && e.str("msg") != msg {
			return false
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if e.str(kv[i]) != kv[i+1] {
				return false
			}
		}
		return true
	}
}

// waitLog waits for a JSON log line on stderr that matches.
func (p *proc) waitLog(timeout time.Duration, match func(logEntry) bool) (logEntry, bool) {
	var found logEntry
	_, ok := p.stderr.wait(p.done, timeout, func(l string) bool {
		e, ok := parseLog(l)
		if ok && match(e) {
			found = e
			return true
		}
		return false
	})
	return found, ok
}

// mustLog is waitLog that fails the test, describing what it waited for.
func (p *proc) mustLog(t testing.TB, timeout time.Duration, what string, match func(logEntry) bool) logEntry {
	t.Helper()
	e, ok := p.waitLog(timeout, match)
	if !ok {
		t.Fatalf("%s: no log line %s within %v (exited: %v)", p.label, what, timeout, p.exited())
	}
	return e
}

// logs returns every JSON log line seen so far that matches.
func (p *proc) logs(match func(logEntry) bool) []logEntry {
	lines, _ := p.stderr.snapshot()
	var out []logEntry
	for _, l := range lines {
		if e, ok := parseLog(l); ok && match(e) {
			out = append(out, e)
		}
	}
	return out
}

// needProgram returns the path of the first of names found, or skips.
func needProgram(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	skipOrFail(t, "%s not installed (apt-get install the Debian package; .ci/run does)", strings.Join(names, " or "))
	return ""
}

// skipOrFail skips a test that lacks an external requirement, except where
// PASSTUNNEL_REQUIRE_PEERS is set (as .ci/run does): there every test must
// run, so a missing requirement fails instead of passing unnoticed.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("PASSTUNNEL_REQUIRE_PEERS") != "" {
		t.Fatalf("PASSTUNNEL_REQUIRE_PEERS is set: "+format, args...)
	}
	t.Skipf(format, args...)
}

// runProc runs a program to completion within timeout and returns it.
func runProc(t *testing.T, timeout time.Duration, name string, args ...string) *proc {
	t.Helper()
	p := startProc(t, name, args, procOpts{})
	if code := p.mustExit(t, timeout); code != 0 {
		t.Fatalf("%s %s: exit code %d\nstdout: %s\nstderr: %s", p.label, strings.Join(args, " "),
			code, p.stdout.String(), p.stderr.String())
	}
	return p
}
