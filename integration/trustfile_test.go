package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Files that decide whom passtunnel trusts (a CA bundle, the config, a
// passphrase file) are refused when anyone but root or passtunnel's user
// could change them, at start and at reload.

func mustChmod(t testing.TB, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// expectRefusal runs `check` and `run` on the config at path: both must
// exit 1 with a line holding want.
func expectRefusal(t *testing.T, path, want string) {
	t.Helper()
	p, code := runCheck(t, nil, "-config", path)
	if code != 1 || !strings.Contains(p.stderr.String(), want) {
		t.Errorf("check: exit %d, want 1 with %q in:\n%s", code, want, p.stderr.String())
	}
	r := startProc(t, binPath, []string{"run", "-config", path}, procOpts{})
	if code := r.mustExit(t, startTimeout); code != 1 || !strings.Contains(r.stderr.String(), want) {
		t.Errorf("run: exit %d, want 1 with %q in:\n%s", code, want, r.stderr.String())
	}
}

// tlsRefused reports whether the server at addr refuses a client with cfg:
// the handshake fails, or (TLS 1.3 sends the refusal after it) the first
// read does.
func tlsRefused(t *testing.T, addr string, cfg *tls.Config) bool {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer raw.Close()
	c := tls.Client(raw, cfg)
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if c.Handshake() != nil {
		return true
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return true
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err != nil
}

// TestUnsafeCAFileRefused: a CA bundle anyone may write makes check and run
// exit 1, naming the field, the file and its mode.
func TestUnsafeCAFileRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mustChmod(t, f.caA, 0o666)
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(configText(f.serverTun("srv", "127.0.0.1:0", "127.0.0.1:1"))))
	expectRefusal(t, path, fmt.Sprintf(`%s:11:5: tunnel "srv": tls.ca: %s is writable by group and others (mode 0666): `+
		"anyone who can change it decides whom this tunnel trusts; chmod go-w it", path, f.caA))
}

// TestUnsafeCAHotReloadRefused: a CA bundle made writable by all and
// rewritten (here to trust another CA) while the tunnel runs is refused
// like a file that does not parse: a WARN names the file and its mode, and
// the last good CA keeps deciding who gets in.
func TestUnsafeCAHotReloadRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	p := startRun(t, f.serverTun("srv", "127.0.0.1:0", be.addr))
	addr := p.listenAddr(t, "srv")
	echoTLS(t, f, addr, "before")
	intruder := f.clientTLS(f.clientB)
	if !tlsRefused(t, addr, intruder) {
		t.Fatal("client of CA B accepted before anything changed")
	}

	mustChmod(t, f.caA, 0o666)
	if err := os.WriteFile(f.caA, mustRead(t, f.caB), 0o666); err != nil {
		t.Fatal(err)
	}
	e := p.mustLog(t, reloadTimeout, "the CA reload refused", logMatch("certificate reload failed", "tunnel", "srv", "file", f.caA))
	if e.str("level") != "WARN" || !strings.Contains(e.str("reason"), f.caA+" is writable by group and others (mode 0666)") {
		t.Errorf("refusal line %v: want a WARN whose reason names the file and mode 0666", e)
	}
	echoTLS(t, f, addr, "after: the last good CA still admits its client")
	if !tlsRefused(t, addr, intruder) {
		t.Fatal("client of the CA planted in a file writable by all accepted")
	}
	if n := len(p.logs(logMatch("certificate reloaded", "file", f.caA))); n != 0 {
		t.Errorf("%d certificate reloaded lines for the unsafe CA, want none", n)
	}
}

// TestUnsafePassphraseFileRefused: a passphrase file anyone may write is
// refused in a config (file()), in a flag and by `pki`.
func TestUnsafePassphraseFileRefused(t *testing.T) {
	passphraseTest(t)
	_, pass := passFile(t)
	mustChmod(t, pass, 0o666)
	want := pass + " is writable by group and others (mode 0666)"
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(configText(ptun{name: "srv", mode: "server",
		listen: "127.0.0.1:0", target: "127.0.0.1:1", passphrase: pass})))
	expectRefusal(t, path, fmt.Sprintf(`%s:8:3: tunnel "srv": passphrase: file(%q): %s`, path, pass, want))

	for _, args := range [][]string{
		{"server", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:1", "--passphrase-file", pass},
		{"pki", "ca", "--passphrase-file", pass},
	} {
		p := startProc(t, binPath, args, procOpts{})
		if code := p.mustExit(t, startTimeout); code != 1 || !strings.Contains(p.stderr.String(), want) {
			t.Errorf("%s: exit %d, want 1 with %q in:\n%s", strings.Join(args, " "), code, want, p.stderr.String())
		}
	}
}

// TestUnsafeConfigDirRefused: a config file in a directory anyone may
// write in (not sticky) is refused at start, and at a reload once its
// directory became so: the running config stays.
func TestUnsafeConfigDirRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	dir := filepath.Join(t.TempDir(), "conf")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, dir, "passtunnel.hcl", []byte(configText(f.serverTun("srv", "127.0.0.1:0", be.addr))))
	mustChmod(t, dir, 0o777)
	want := "directory " + dir + ", on the way to " + path + ", is writable by group and others (mode 0777)"
	expectRefusal(t, path, want)

	mustChmod(t, dir, 0o755)
	r := runReloadable(t, path)
	addr := r.listenAddr(t, "srv")
	n := len(r.logs(isReloadResult))
	mustChmod(t, dir, 0o777)
	r.signal(t, syscall.SIGHUP)
	e := r.nextResult(t, n)
	if e.str("msg") != "config reload refused" || e.str("level") != "ERROR" || !strings.Contains(e.str("error"), want) {
		t.Fatalf("reload result %v, want an ERROR config reload refused naming the directory and its mode", e)
	}
	echoTLS(t, f, addr, "the running config stays")
}

// TestPrivateKeyReadableWarned: a key anyone may read is no error, but it
// is warned about, once however many tunnels use it.
func TestPrivateKeyReadableWarned(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mustChmod(t, f.server.key, 0o644)
	p := startRun(t, f.serverTun("a", "127.0.0.1:0", "127.0.0.1:1"), f.serverTun("b", "127.0.0.1:0", "127.0.0.1:1"))
	p.listenAddr(t, "a")
	p.listenAddr(t, "b")
	match := logMatch("private key is readable by group or others: whoever can read it can act as this tunnel; "+
		"chmod go-r it (a Kubernetes Secret volume: defaultMode 0400, or 0440 with fsGroup)", "file", f.server.key, "mode", "0644")
	if got := p.logs(match); len(got) != 1 || got[0].str("level") != "WARN" {
		t.Errorf("%d warnings about the key, want one WARN: %v", len(got), got)
	}
}
