package daemon

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/pki"
)

// serverTunnelFiles is a server tunnel block over a fresh certificate that
// expires in validity, and that certificate's NotAfter.
func serverTunnelFiles(t *testing.T, name string, validity time.Duration) (string, time.Time) {
	t.Helper()
	ca, err := pkitest.NewAuthority("ready-test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(pkitest.LeafSpec{CommonName: "localhost", DNSNames: []string{"localhost"}, Server: true, Validity: validity})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := pki.WriteKeyPair(t.TempDir(), name, c)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("tunnel %q {\n  mode = \"server\"\n  listen = \"127.0.0.1:0\"\n  target = \"127.0.0.1:1\"\n"+
		"  tls {\n    cert = %q\n    key = %q\n    client_auth = \"none\"\n  }\n}\n", name, certFile, keyFile), c.Leaf.NotAfter
}

// /readyz's reasons, one case at a time: an acme tunnel without its
// certificate yet, an expired certificate, a tunnel a reload could not
// start, a drain.
func TestNotReady(t *testing.T) {
	files, notAfter := serverTunnelFiles(t, "files", time.Hour)
	acme := fmt.Sprintf("tunnel \"edge\" {\n  mode = \"server\"\n  listen = \"127.0.0.1:0\"\n  target = \"127.0.0.1:1\"\n"+
		"  tls { client_auth = \"none\" }\n"+
		"  acme {\n    domains = [\"edge.example.test\"]\n    ca = \"https://127.0.0.1:1/directory\"\n    storage = %q\n  }\n}\n",
		filepath.Join(testfs.SettlingDir(t), "acme"))
	f := startTestFleet(t, files+clientTunnel("plain", "127.0.0.1:0")+acme)
	t.Cleanup(f.pki.Close) // ends certmagic's retries against the CA that is not there
	now := time.Now()

	got := f.notReady(now)
	if len(got) != 1 || !strings.Contains(got[0], `tunnel "edge": no certificate to present: acme: no certificate for edge.example.test yet`) {
		t.Errorf("acme without a certificate: %q", got)
	}
	got = f.notReady(notAfter)
	if len(got) != 2 || !strings.Contains(got[0], `tunnel "files": certificate expired at `+notAfter.UTC().Format(time.RFC3339)) {
		t.Errorf("at the certificate's NotAfter: %q", got)
	}

	// A reload that cannot start a tunnel leaves it configured but absent.
	addr, release := holdPort(t)
	defer release()
	f.reloadWith(t, files+clientTunnel("plain", "127.0.0.1:0")+clientTunnel("late", addr))
	got = f.notReady(now)
	if len(got) != 1 || !strings.Contains(got[0], `tunnel "late": not listening`) {
		t.Errorf("after a reload that could not start a tunnel: %q", got)
	}

	f.draining.Store(true)
	if got = f.notReady(now); len(got) != 1 || !strings.HasPrefix(got[0], "draining") {
		t.Errorf("draining: %q", got)
	}
}

func TestNotReadyBeforeStart(t *testing.T) {
	var f Fleet
	if got := f.notReady(time.Now()); len(got) != 1 || !strings.HasPrefix(got[0], "starting") {
		t.Errorf("before any tunnel started: %q", got)
	}
}
