package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSelfSignedPinned: a server tunnel makes a self-signed certificate,
// logs its fingerprint, and finds the same one after a restart (from a
// config file, then from flags); a client tunnel pinned to that
// fingerprint connects, one pinned to another is refused.
func TestSelfSignedPinned(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	be := startEcho(t)
	fingerprint := func(p *proc) (fp, file string) {
		e := p.mustLog(t, startTimeout, "self-signed certificate", logMatch("self-signed certificate", "tunnel", "web"))
		if fp, file = e.str("fingerprint"), e.str("file"); !strings.HasPrefix(fp, "SHA256:") || file == "" {
			t.Fatalf("self-signed certificate line without fingerprint or file: %v", e)
		}
		return fp, file
	}

	first := runText(t, configBlocks(fmt.Sprintf(`tunnel "web" {
  mode   = "server"
  listen = "127.0.0.1:0"
  target = %q
  tls {
    self_signed = true
    client_auth = "none"
  }
}
`, be.addr)), nil, "--state-dir", state)
	fp, file := fingerprint(first)
	first.listenAddr(t, "web")
	if want := filepath.Join(state, "self-signed", "web.crt"); file != want {
		t.Errorf("certificate file %s, want %s", file, want)
	}
	key := strings.TrimSuffix(file, ".crt") + ".key"
	if fi, err := os.Stat(key); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file %s: mode %v, want 0600", key, fi.Mode().Perm())
	}
	first.signal(t, syscall.SIGTERM)
	if code := first.mustExit(t, startTimeout); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}

	// The restart, from flags: same tunnel name, same state directory.
	srv := startFlags(t, "server", "--name", "web", "--listen", "127.0.0.1:0", "--target", be.addr,
		"--self-signed", "--client-auth", "none", "--state-dir", state)
	if again, _ := fingerprint(srv); again != fp {
		t.Fatalf("fingerprint after restart %s, want %s", again, fp)
	}
	saddr := srv.listenAddr(t, "web")

	other := "SHA256" + strings.Repeat(":00", 32)
	client := func(name, pin string) string {
		return fmt.Sprintf("tunnel %q {\n  mode   = \"client\"\n  listen = \"127.0.0.1:0\"\n  target = %q\n  tls { pin = [%q] }\n}\n",
			name, saddr, pin)
	}
	cli := runText(t, configBlocks(client("pinned", strings.ToLower(fp)), client("wrongpin", other)), nil)
	t.Run("pinned", func(t *testing.T) {
		echoOnce(t, cli.listenAddr(t, "pinned"), "hello through a pinned self-signed server")
	})
	t.Run("pinned to another", func(t *testing.T) {
		e := refusedThrough(t, cli, "wrongpin")
		wantError(t, e, "peer certificate "+fp, "matches no tls.pin entry")
		if r := e.str("reason"); r != "bad_certificate" {
			t.Errorf("reason %q, want bad_certificate", r)
		}
	})
}
