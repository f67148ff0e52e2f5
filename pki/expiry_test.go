package pki

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testfs"
)

// Expiry reads what each kind of endpoint presents now.
func TestIdentityExpiry(t *testing.T) {
	ca := newTestCA(t, "expiry")
	m, _ := reloadManager(t, time.Hour, true)
	check := func(what string, got time.Time, err error, want time.Time) {
		t.Helper()
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: Expiry = %v, %v; want %v", what, got, err, want)
		}
	}

	// Files, followed by hot reload: the pair in use, after a reload too.
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	dir := testfs.NewK8sDir(t, map[string][]byte{"tls.crt": a.cert, "tls.key": a.key})
	srv, err := m.Server(serverTunnel(dir.Path("tls.crt"), dir.Path("tls.key"), ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.Expiry()
	check("file server", got, err, a.notAfter)
	dir.Update(t, map[string][]byte{"tls.crt": b.cert, "tls.key": b.key})
	waitServed(t, srv.Config, ca, b.fp)
	got, err = srv.Expiry()
	check("file server after a reload", got, err, b.notAfter)

	// A client without a certificate presents none, and that is no error.
	cli, err := m.Client(tunnel(config.ModeClient, &config.TLS{CA: ca.file}), "db.internal")
	if err != nil {
		t.Fatal(err)
	}
	got, err = cli.Expiry()
	check("client without a certificate", got, err, time.Time{})

	// Self-signed: the kept certificate.
	ms := NewManager(Options{StateDir: filepath.Join(t.TempDir(), "state")})
	t.Cleanup(ms.Close)
	ss, err := ms.Server(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	got, err = ss.Expiry()
	check("self-signed", got, err, ss.Config.Certificates[0].Leaf.NotAfter)
}

func TestIdentityExpiryPassphraseNode(t *testing.T) {
	clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	m := newTestManager(Options{NodeName: "n1", NodeValidity: time.Hour, Now: clock.Now})
	t.Cleanup(m.Close)
	srv, err := m.Server(ptunnel(config.ModeServer, pass1))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := m.Client(ptunnel(config.ModeClient, pass1), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Endpoint{srv, cli} {
		got, err := e.Expiry()
		// The node certificate is issued on first use, valid for an hour.
		if err != nil || got.Sub(clock.Now()) != time.Hour {
			t.Errorf("Expiry = %v, %v; want an hour after %v", got, err, clock.Now())
		}
	}
}

// An acme tunnel has no identity until the CA issued its certificate.
func TestIdentityExpiryACMENotObtained(t *testing.T) {
	m := NewManager(Options{})
	t.Cleanup(m.Close)
	e, err := m.Server(acmeTunnel(t, newTestCA(t, "clients")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Expiry()
	if err == nil || !strings.Contains(err.Error(), "no certificate for edge.example.test yet") || !got.IsZero() {
		t.Errorf("Expiry = %v, %v; want an error naming the domain", got, err)
	}
	// A scrape may still hold an endpoint that a reload released: it
	// must still be answered, not crash.
	e.Release()
	if got, err := e.Expiry(); err == nil || !got.IsZero() {
		t.Errorf("released acme config: Expiry = %v, %v; want an error", got, err)
	}
}
