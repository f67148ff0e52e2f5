package integration

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// checkTimeout bounds one `passtunnel check` run.
const checkTimeout = 15 * time.Second

// runCheck runs `passtunnel check` and returns it after it exited.
func runCheck(t *testing.T, env []string, args ...string) (p *proc, code int) {
	t.Helper()
	p = startProc(t, binPath, append([]string{"check"}, args...), procOpts{env: env})
	return p, p.mustExit(t, checkTimeout)
}

// marker ends the line a broken config's error must point at.
const marker = "# <- error here"

// markedLine is the 1-based line holding marker.
func markedLine(t *testing.T, text string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatal("test config without marker")
	return 0
}

// TestCheckRejects: each broken file makes `check` exit 1 with a
// file:line:col error naming the tunnel and field at fault.
func TestCheckRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tlsBlock := fmt.Sprintf("  tls {\n    cert = %q\n    key  = %q\n    ca   = %q\n  }\n", f.server.cert, f.server.key, f.caA)
	head := "tunnel \"a\" {\n  mode   = \"server\"\n  listen = \"127.0.0.1:7001\"\n  target = \"127.0.0.1:7002\"\n"
	const secret = "integration-test-passphrase-never-printed"

	cases := []struct {
		name   string
		text   string
		want   []string // all on the error line, after file:line:col:
		noSkip bool     // run without -skip-files
	}{
		{"unknown field", head + "  bogus  = 1 " + marker + "\n" + tlsBlock + "}\n",
			[]string{`"bogus"`}, false},
		{"duplicate tunnel", head + tlsBlock + "}\n\ntunnel \"a\" { " + marker + "\n  mode   = \"server\"\n  listen = \"127.0.0.1:7003\"\n  target = \"127.0.0.1:7002\"\n" + tlsBlock + "}\n",
			[]string{`tunnel "a"`}, false},
		{"duplicate listen", head + tlsBlock + "}\n\ntunnel \"b\" {\n  mode   = \"server\"\n  listen = \"127.0.0.1:7001\" " + marker + "\n  target = \"127.0.0.1:7002\"\n" + tlsBlock + "}\n",
			[]string{`tunnel "b":`, "listen:"}, false},
		{"bad duration", head + tlsBlock + "  limits {\n    handshake_timeout = \"ten seconds\" " + marker + "\n  }\n}\n",
			[]string{`tunnel "a":`, "limits.handshake_timeout:"}, false},
		{"negative max_handshakes", head + tlsBlock + "  limits {\n    max_handshakes = -1 " + marker + "\n  }\n}\n",
			[]string{`tunnel "a":`, "limits.max_handshakes:", "must not be negative (0 means sized to the CPUs)"}, false},
		{"bad address", "tunnel \"a\" {\n  mode   = \"server\"\n  listen = \"not-an-address\" " + marker + "\n  target = \"127.0.0.1:7002\"\n" + tlsBlock + "}\n",
			[]string{`tunnel "a":`, "listen:"}, false},
		{"bad tls version", head + "  tls {\n    cert = \"c.pem\"\n    key  = \"k.pem\"\n    ca   = \"ca.pem\"\n    min_version = \"1.1\" " + marker + "\n  }\n}\n",
			[]string{`tunnel "a":`, "tls.min_version:"}, false},
		{"client_auth on a client tunnel", "tunnel \"a\" {\n  mode   = \"client\"\n  listen = \"127.0.0.1:7001\"\n  target = \"127.0.0.1:7002\"\n  tls {\n    ca = \"ca.pem\"\n    client_auth = \"require\" " + marker + "\n  }\n}\n",
			[]string{`tunnel "a":`, "tls.client_auth:"}, false},
		{"bad mode", "tunnel \"a\" {\n  mode   = \"sideways\" " + marker + "\n  listen = \"127.0.0.1:7001\"\n  target = \"127.0.0.1:7002\"\n" + tlsBlock + "}\n",
			[]string{`tunnel "a":`, "mode:"}, false},
		{"missing target", "tunnel \"a\" { " + marker + "\n  mode   = \"server\"\n  listen = \"127.0.0.1:7001\"\n" + tlsBlock + "}\n",
			[]string{`tunnel "a":`, "target:"}, false},
		{"bad log_level", "log_level = \"loud\" " + marker + "\n\n" + head + tlsBlock + "}\n",
			[]string{"log_level:"}, false},
		{"missing cert file", head + fmt.Sprintf("  tls {\n    cert = %q %s\n    key  = %q\n    ca   = %q\n  }\n}\n",
			filepath.Join(f.dir, "no-such-cert.pem"), marker, f.server.key, f.caA),
			[]string{`tunnel "a":`, "tls.cert", "no-such-cert.pem"}, true},
		{"shared_secret in a list", head + tlsBlock + "  shared_secret = [\"" + secret + "\"] " + marker + "\n}\n",
			[]string{`tunnel "a":`, "shared_secret:", "must be a string"}, false},
		{"allow wildcard inside a label", head + tlsBlock + "  allow {\n    dns = [\"web-*.internal\"] " + marker + "\n  }\n}\n",
			[]string{`tunnel "a":`, "allow.dns:", "a wildcard must be a whole segment"}, false},
		{"weak passphrase", head + "  passphrase = \"changeme\" " + marker + "\n}\n",
			[]string{`tunnel "a":`, "passphrase:", "too short", "allow_weak_passphrase"}, true},
		{"cluster without passphrase", head + tlsBlock + "  cluster = \"prod\" " + marker + "\n}\n",
			[]string{`tunnel "a":`, "cluster:", "needs passphrase"}, false},
		{"hcl syntax error", head + "  listen = = \"x\" " + marker + "\n}\n",
			nil, false},
	}
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, fmt.Sprintf("broken-%02d.hcl", i), []byte(tc.text))
			args := []string{"-config", path}
			if !tc.noSkip {
				args = append(args, "-skip-files")
			}
			p, code := runCheck(t, nil, args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			stderr := p.stderr.String()
			if strings.Contains(stderr+p.stdout.String(), secret) {
				t.Fatal("check printed the passphrase")
			}
			prefix := regexp.MustCompile("^" + regexp.QuoteMeta(fmt.Sprintf("%s:%d:", path, markedLine(t, tc.text))) + `\d+: `)
			for _, l := range strings.Split(stderr, "\n") {
				if prefix.MatchString(l) && containsAll(l, tc.want) {
					return
				}
			}
			t.Errorf("stderr has no line %s... containing %q; config:\n%s\nstderr:\n%s", prefix, tc.want,
				strings.ReplaceAll(tc.text, secret, "[redacted]"), stderr)
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestCheckAccepts: a valid file with real cert files passes and the plan
// names the tunnel.
func TestCheckAccepts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := f.serverTun("good", "127.0.0.1:7001", "127.0.0.1:7002")
	good.limits = "    max_handshakes = 16"
	cfg := configText(good, f.clientTun("good-client", "127.0.0.1:7003", "localhost:7001"))
	path := writeFile(t, t.TempDir(), "good.hcl", []byte(cfg))
	p, code := runCheck(t, nil, "-config", path)
	if code != 0 {
		t.Fatalf("check exit code %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	out := p.stdout.String()
	if !strings.Contains(out, "good") || !strings.Contains(out, "good-client") {
		t.Errorf("plan does not name both tunnels:\n%s", out)
	}
	// max_handshakes as set, and its default sized where the tunnel runs.
	for _, want := range []string{", 16 handshakes at once,", ", 32 handshakes per CPU at once (at least 64),"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckWritesNothing: checking a self-signed tunnel neither makes the
// state directory nor a certificate (made by whoever runs check, it could
// be unreadable to the service user, and its fingerprint is the one
// clients would pin); `run` makes them.
func TestCheckWritesNothing(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	cfg := "tunnel \"web\" {\n  mode   = \"server\"\n  listen = \"127.0.0.1:7001\"\n  target = \"127.0.0.1:7002\"\n" +
		"  tls {\n    self_signed = true\n    client_auth = \"none\"\n  }\n}\n"
	path := writeFile(t, t.TempDir(), "self.hcl", []byte(cfg))
	p, code := runCheck(t, nil, "-config", path, "-state-dir", state)
	if code != 0 {
		t.Fatalf("check exit code %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("check made %s (stat: %v)", state, err)
	}
}

var envRef = regexp.MustCompile(`env\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\)`)

// TestExamplesCheck: every *.hcl under examples/ passes check -skip-files,
// with dummy values for the environment variables it reads.
func TestExamplesCheck(t *testing.T) {
	t.Parallel()
	var files []string
	err := filepath.WalkDir(filepath.Join("..", "examples"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk examples: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("no *.hcl under examples/: every example must be exercised")
	}
	sort.Strings(files)
	for _, path := range files {
		t.Run(filepath.ToSlash(path), func(t *testing.T) {
			text := string(mustRead(t, path))
			var env []string
			for _, m := range envRef.FindAllStringSubmatch(text, -1) {
				env = append(env, m[1]+"=integration-dummy-value-"+strings.ToLower(m[1]))
			}
			p, code := runCheck(t, env, "-skip-files", "-config", path)
			if code != 0 {
				t.Errorf("check -skip-files %s: exit code %d\nstderr:\n%s", path, code, p.stderr.String())
			}
		})
	}
}
