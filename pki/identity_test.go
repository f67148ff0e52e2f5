package pki

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testfs"
)

// IdentityExpiry reads what each kind of config presents now.
func TestIdentityExpiry(t *testing.T) {
	ca := newTestCA(t, "expiry")
	m, _ := reloadManager(t, time.Hour, true)
	check := func(what string, got time.Time, err error, want time.Time) {
		t.Helper()
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: IdentityExpiry = %v, %v; want %v", what, got, err, want)
		}
	}

	// Files, followed by hot reload: the pair in use, after a reload too.
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	dir := testfs.NewK8sDir(t, map[string][]byte{"tls.crt": a.cert, "tls.key": a.key})
	srv, err := m.ServerTLSConfig(serverTunnel(dir.Path("tls.crt"), dir.Path("tls.key"), ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.IdentityExpiry(srv)
	check("file server", got, err, a.notAfter)
	dir.Update(t, map[string][]byte{"tls.crt": b.cert, "tls.key": b.key})
	waitServed(t, srv, ca, b.fp)
	got, err = m.IdentityExpiry(srv)
	check("file server after a reload", got, err, b.notAfter)

	// A client without a certificate presents none, and that is no error.
	cli, err := m.ClientTLSConfig(tunnel(config.ModeClient, &config.TLS{CA: ca.file}), "db.internal")
	if err != nil {
		t.Fatal(err)
	}
	got, err = m.IdentityExpiry(cli)
	check("client without a certificate", got, err, time.Time{})

	// Self-signed: the kept certificate.
	ms := NewManager(Options{StateDir: filepath.Join(t.TempDir(), "state")})
	t.Cleanup(ms.Close)
	ss, err := ms.ServerTLSConfig(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	got, err = ms.IdentityExpiry(ss)
	check("self-signed", got, err, ss.Certificates[0].Leaf.NotAfter)
}

func TestIdentityExpiryPassphraseNode(t *testing.T) {
	clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	m := newTestManager(Options{NodeName: "n1", NodeValidity: time.Hour, Now: clock.Now})
	t.Cleanup(m.Close)
	for _, cfg := range []*tls.Config{
		serverConfig(t, m, ptunnel(config.ModeServer, pass1)),
		clientConfig(t, m, ptunnel(config.ModeClient, pass1)),
	} {
		got, err := m.IdentityExpiry(cfg)
		// The node certificate is issued on first use, valid for an hour.
		if err != nil || got.Sub(clock.Now()) != time.Hour {
			t.Errorf("IdentityExpiry = %v, %v; want an hour after %v", got, err, clock.Now())
		}
	}
}

// An acme tunnel has no identity until the CA issued its certificate.
func TestIdentityExpiryACMENotObtained(t *testing.T) {
	m := NewManager(Options{})
	t.Cleanup(m.Close)
	cfg, err := m.ServerTLSConfig(acmeTunnel(t, newTestCA(t, "clients")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.IdentityExpiry(cfg)
	if err == nil || !strings.Contains(err.Error(), "no certificate for edge.example.test yet") || !got.IsZero() {
		t.Errorf("IdentityExpiry = %v, %v; want an error naming the domain", got, err)
	}
	// A scrape may still hold a config that a reload released: it is no
	// longer known as acme, and must still be answered, not crash.
	m.Release(cfg)
	if got, err := m.IdentityExpiry(cfg); err == nil || !got.IsZero() {
		t.Errorf("released acme config: IdentityExpiry = %v, %v; want an error", got, err)
	}
}
