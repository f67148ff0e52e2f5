package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// TestChainWarning: a server certificate file that chains to a known root
// draws no warning, one that does not draws a warning naming the field and
// the file and what a private CA's clients need; identities that never
// chain to a public root by design are not checked.
func TestChainWarning(t *testing.T) {
	p := pkitest.NewPKI(t)
	e := &pki.Endpoint{Config: &tls.Config{Certificates: []tls.Certificate{p.Leaf(t, "server", nil)}}}
	known := func() (*x509.CertPool, error) { return p.Pool, nil }
	unknown := func() (*x509.CertPool, error) { return x509.NewCertPool(), nil }
	files := &config.Tunnel{Mode: config.ModeServer, TLS: &config.TLS{Cert: "server.pem", CA: "ca.pem"}}

	if w := chainWarning(files, e, known); w != "" {
		t.Errorf("chain to a known root: warning %q, want none", w)
	}
	w := chainWarning(files, e, unknown)
	for _, want := range []string{"tls.cert server.pem does not chain to a system root", "private CA", "tls.ca"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q lacks %q", w, want)
		}
	}
	pass := &config.Tunnel{Mode: config.ModeServer, TLS: &config.TLS{}, Passphrase: config.NewSecret("x", "literal")}
	self := &config.Tunnel{Mode: config.ModeServer, TLS: &config.TLS{SelfSigned: true}}
	client := &config.Tunnel{Mode: config.ModeClient, TLS: &config.TLS{Cert: "client.pem"}}
	for _, tun := range []*config.Tunnel{pass, self, client} {
		if w := chainWarning(tun, e, unknown); w != "" {
			t.Errorf("%+v: warning %q, want none (not checked)", tun.TLS, w)
		}
	}
}
