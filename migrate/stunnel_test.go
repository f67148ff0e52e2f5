package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importText imports a stunnel configuration written to a temporary file.
func importText(t *testing.T, text string) Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stunnel.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := ImportStunnel(path)
	if err != nil {
		t.Fatalf("ImportStunnel: %v", err)
	}
	return r
}

func notesText(r Result) string {
	var sb strings.Builder
	for _, n := range r.Notes {
		sb.WriteString(n.String() + "\n")
	}
	return sb.String()
}

// squash makes alignment irrelevant: every run of blanks becomes one space.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// expect checks HCL fragments, note fragments and the security verdict.
func expect(t *testing.T, r Result, hcl, notes []string, security bool) {
	t.Helper()
	flat := squash(r.HCL)
	for _, w := range hcl {
		if !strings.Contains(flat, squash(w)) {
			t.Errorf("HCL lacks %q:\n%s", w, r.HCL)
		}
	}
	got := notesText(r)
	for _, w := range notes {
		if !strings.Contains(got, w) {
			t.Errorf("notes lack %q:\n%s", w, got)
		}
	}
	if r.SecurityDropped() != security {
		t.Errorf("SecurityDropped = %v, want %v; notes:\n%s", r.SecurityDropped(), security, got)
	}
}

// TestStunnelSample imports the sample stunnel ships (Debian's
// /usr/share/doc/stunnel4/examples/stunnel.conf-sample, stunnel 5.68,
// copied to testdata), and the installed one when present.
func TestStunnelSample(t *testing.T) {
	paths := []string{filepath.Join("testdata", "stunnel.conf-sample")}
	const installed = "/usr/share/doc/stunnel4/examples/stunnel.conf-sample"
	if _, err := os.Stat(installed); err == nil {
		paths = append(paths, installed)
	} else if os.Getenv("PASSTUNNEL_REQUIRE_PEERS") != "" {
		t.Fatalf("PASSTUNNEL_REQUIRE_PEERS is set and %s (package stunnel4) is missing", installed)
	} else {
		t.Logf("%s missing (package stunnel4): testing the copy in testdata only", installed)
	}
	for _, p := range paths {
		r, err := ImportStunnel(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		expect(t, r, []string{
			`tunnel "gmail-pop3"`, `tunnel "gmail-imap"`, `tunnel "gmail-smtp"`,
			`listen = "127.0.0.1:110"`, `target = "pop.gmail.com:995"`, `mode   = "client"`,
			`system_roots = true`, `server_name  = "pop.gmail.com"`,
		}, []string{"CApath: the system's certificate store", "SECURITY: OCSPaia"}, true)
		if !strings.HasPrefix(r.HCL, "# Imported by `passtunnel import stunnel` from "+p) {
			t.Errorf("header does not name the source:\n%s", r.HCL)
		}
	}
}

// TestStunnelHyperShellPair: the server and client of a HyperShell-style
// deployment carry over whole; only process options are reported.
func TestStunnelHyperShellPair(t *testing.T) {
	srv, err := ImportStunnel(filepath.Join("testdata", "hypershell-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, srv, []string{`log_level = "info"`, `mode   = "server"`, `listen = "0.0.0.0:50001"`,
		`target = "127.0.0.1:50000"`, `cert        = "/etc/hypershell/server.crt"`,
		`ca          = "/etc/hypershell/ca.crt"`, `client_auth = "require"`},
		[]string{"setuid: not carried: set User=", "pid: not carried"}, false)
	cli, err := ImportStunnel(filepath.Join("testdata", "hypershell-client.conf"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, cli, []string{`mode   = "client"`, `listen = "127.0.0.1:50000"`,
		`target = "hypershell-server.internal:50001"`, `server_name = "hypershell-server.internal"`,
		`cert        = "/etc/hypershell/client.crt"`},
		[]string{"foreground: not carried", "output: not carried"}, false)
	if strings.Contains(cli.HCL, "verify") {
		t.Errorf("one checkHost is the default name check; want no verify field:\n%s", cli.HCL)
	}
}

// TestStunnelInclude: a directory include, in name order, relative to the
// including file; service names made valid.
func TestStunnelInclude(t *testing.T) {
	r, err := ImportStunnel(filepath.Join("testdata", "with-include.conf"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, r, []string{`log_level = "debug"`, `tunnel "a"`, `listen = "0.0.0.0:7001"`, `tunnel "b-service"`,
		`verify = "chain"`}, []string{`the tunnel is named "b-service"`}, false)
	if strings.Index(r.HCL, `tunnel "a"`) > strings.Index(r.HCL, `tunnel "b-service"`) {
		t.Errorf("services out of include order:\n%s", r.HCL)
	}
}

func TestStunnelIncludeLoop(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "loop.conf")
	if err := os.WriteFile(path, []byte("include = loop.conf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportStunnel(path); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("include loop: err = %v, want a depth error", err)
	}
}

func TestStunnelSyntaxError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(path, []byte("[a]\naccept 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportStunnel(path); err == nil || !strings.Contains(err.Error(), "bad.conf:2:") {
		t.Fatalf("err = %v, want one naming bad.conf:2", err)
	}
}
