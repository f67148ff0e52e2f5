package integration

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// pair is a certificate and key written as PEM files, plus the parsed form.
type pair struct {
	cert, key string
	tls       tls.Certificate
}

// fixture holds two unrelated CAs and leaves issued by them, as files.
type fixture struct {
	dir      string
	caA, caB string // CA certificate files
	poolA    *x509.CertPool
	server   pair // CA A, DNS localhost, IP 127.0.0.1 and ::1
	client   pair // CA A, CN it-client
	clientB  pair // CA B, CN it-intruder
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	a := newAuthority(t, "passtunnel-it CA A")
	b := newAuthority(t, "passtunnel-it CA B")
	f.caA = writeFile(t, f.dir, "ca-a.pem", a.CertPEM())
	f.caB = writeFile(t, f.dir, "ca-b.pem", b.CertPEM())
	f.poolA = x509.NewCertPool()
	if !f.poolA.AppendCertsFromPEM(a.CertPEM()) {
		t.Fatal("CA A: PEM does not parse")
	}
	f.server = issue(t, a, f.dir, "server", pkitest.LeafSpec{
		CommonName:  "localhost",
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		Server:      true,
	})
	f.client = issue(t, a, f.dir, "client", pkitest.LeafSpec{CommonName: "it-client", Client: true})
	f.clientB = issue(t, b, f.dir, "client-b", pkitest.LeafSpec{CommonName: "it-intruder", Client: true})
	return f
}

func newAuthority(t testing.TB, cn string) *pkitest.Authority {
	t.Helper()
	a, err := pkitest.NewAuthority(cn)
	if err != nil {
		t.Fatalf("NewAuthority(%q): %v", cn, err)
	}
	return a
}

func issue(t testing.TB, a *pkitest.Authority, dir, name string, spec pkitest.LeafSpec) pair {
	t.Helper()
	spec.Validity = time.Hour
	c, err := a.Issue(spec)
	if err != nil {
		t.Fatalf("issue %s: %v", name, err)
	}
	certPath, keyPath, err := pki.WriteKeyPair(dir, name, c)
	if err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	return pair{cert: certPath, key: keyPath, tls: c}
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientTLS is a Go TLS client config presenting p and trusting CA A.
func (f *fixture) clientTLS(p pair) *tls.Config {
	return &tls.Config{
		RootCAs:      f.poolA,
		Certificates: []tls.Certificate{p.tls},
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS12,
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
