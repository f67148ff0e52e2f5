package pkitest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// PKI is an Authority for tests that want configs ready to use: leaves for
// localhost in one call, the pool that trusts them, and a test failed on
// any error instead of one to handle.
type PKI struct {
	*Authority
	CA   *x509.Certificate // the authority's certificate
	Pool *x509.CertPool    // trusts CA
}

// NewPKI makes a fresh authority for t.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	a, err := NewAuthority("test ca")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.Cert)
	return &PKI{Authority: a, CA: a.Cert, Pool: pool}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// Leaf issues a certificate valid for localhost, 127.0.0.1 and ::1, for both
// client and server use; edit may change the template.
func (p *PKI) Leaf(t testing.TB, cn string, edit func(*x509.Certificate)) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.Cert, &key.PublicKey, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// ServerTLS requires and verifies client certificates from p.
func (p *PKI) ServerTLS(t testing.TB) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.Leaf(t, "server", nil)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.Pool,
		MinVersion:   tls.VersionTLS12,
	}
}

// ClientTLS presents a client certificate from p and verifies localhost.
func (p *PKI) ClientTLS(t testing.TB) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.Leaf(t, "client", nil)},
		RootCAs:      p.Pool,
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS12,
	}
}
