package integration

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The harness of the passphrase tests: passphrases, HCL for passphrase
// tunnels, the `pki` commands, and waiting for log lines.

// newPassphrase is a random passphrase that meets the policy, recorded.
func newPassphrase(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return recordSecret(t, "ptit-"+hex.EncodeToString(b), true)
}

// writePassphrase records p and writes it, with the trailing newline that
// `echo` and editors add, to a fresh 0600 file; it returns the path.
func writePassphrase(t testing.TB, p string) string {
	t.Helper()
	return writePassphraseIn(t, t.TempDir(), "passphrase", p)
}

// writePassphraseIn writes passphrase p to dir/name, recorded for the
// secret scan.
func writePassphraseIn(t testing.TB, dir, name, p string) string {
	t.Helper()
	recordSecret(t, p, false)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(p+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// passFile is a new random passphrase and the file that holds it.
func passFile(t testing.TB) (pass, path string) {
	t.Helper()
	pass = newPassphrase(t)
	return pass, writePassphrase(t, pass)
}

// ---- passphrase tunnels ----

// ptun is one passphrase tunnel block of a test config.
type ptun struct {
	name, mode, listen, target string
	passphrase                 string   // file holding it
	previous                   []string // files
	cluster                    string   // "" for the default
	allowWeak                  bool
	extra                      string // more HCL lines inside the block
}

func (c ptun) hcl() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tunnel %q {\n  mode   = %q\n  listen = %q\n  target = %q\n", c.name, c.mode, c.listen, c.target)
	fmt.Fprintf(&b, "  passphrase = file(%q)\n", c.passphrase)
	if len(c.previous) > 0 {
		var fs []string
		for _, p := range c.previous {
			fs = append(fs, fmt.Sprintf("file(%q)", p))
		}
		fmt.Fprintf(&b, "  previous_passphrases = [%s]\n", strings.Join(fs, ", "))
	}
	if c.cluster != "" {
		fmt.Fprintf(&b, "  cluster = %q\n", c.cluster)
	}
	if c.allowWeak {
		b.WriteString("  allow_weak_passphrase = true\n")
	}
	if c.extra != "" {
		b.WriteString(c.extra)
		if !strings.HasSuffix(c.extra, "\n") {
			b.WriteString("\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// startPassRun writes the tunnels to a config file and runs `passtunnel
// run` with env added to the environment.
func startPassRun(t testing.TB, env []string, tunnels ...ptun) *proc {
	t.Helper()
	return runText(t, configText(tunnels...), env)
}

// ---- pki commands ----

// pkiTimeout bounds one `passtunnel pki` command (one Argon2 derivation).
const pkiTimeout = 30 * time.Second

// runPKI runs `passtunnel pki ARGS...` to completion and fails the test
// unless it exits 0.
func runPKI(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	p := startProc(t, binPath, append([]string{"pki"}, args...), procOpts{env: env})
	if code := p.mustExit(t, pkiTimeout); code != 0 {
		t.Fatalf("passtunnel pki %s: exit code %d\nstderr:\n%s", strings.Join(args, " "), code, p.stderr.String())
	}
	return p
}

// issued is the output of `passtunnel pki issue`.
type issued struct {
	cert, key, ca string
}

// pair loads the issued certificate and key.
func (id issued) pair(t testing.TB) tls.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(id.cert, id.key)
	if err != nil {
		t.Fatalf("issued cert and key: %v", err)
	}
	return pair
}

// roots is a pool of the issued ca.crt, the cluster CA.
func (id issued) roots(t testing.TB) *x509.CertPool {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(mustRead(t, id.ca)) {
		t.Fatal("ca.crt of pki issue does not parse")
	}
	return roots
}

// pkiIssue runs `pki issue` for name with the passphrase in passFile.
func pkiIssue(t testing.TB, passFile, name string, extra ...string) issued {
	t.Helper()
	dir := t.TempDir()
	runPKI(t, nil, append([]string{"issue", "--name", name, "--out", dir, "--passphrase-file", passFile}, extra...)...)
	return issued{
		cert: filepath.Join(dir, name+".crt"),
		key:  filepath.Join(dir, name+".key"),
		ca:   filepath.Join(dir, "ca.crt"),
	}
}

// ---- logs ----

// waitLogs waits until at least n JSON log lines on stderr match and
// returns them all.
func (p *proc) waitLogs(t testing.TB, timeout time.Duration, n int, what string, match func(logEntry) bool) []logEntry {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		lines, changed := p.stderr.snapshot()
		var found []logEntry
		for _, l := range lines {
			if e, ok := parseLog(l); ok && match(e) {
				found = append(found, e)
			}
		}
		if len(found) >= n {
			return found
		}
		select {
		case <-changed:
		case <-p.done:
			if lines2, _ := p.stderr.snapshot(); len(lines2) == len(lines) {
				t.Fatalf("%s: exited with %d of %d log lines %s", p.label, len(found), n, what)
			}
		case <-deadline.C:
			t.Fatalf("%s: %d of %d log lines %s within %v", p.label, len(found), n, what, timeout)
		}
	}
}
