package pkitest

import (
	"crypto/rsa"
	"crypto/x509"
	"net"
	"net/url"
	"testing"
	"time"
)

func TestAuthorityIssue(t *testing.T) {
	a, err := NewAuthority("demo CA")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Cert.IsCA || a.Cert.Subject.CommonName != "demo CA" {
		t.Fatalf("CA cert: IsCA %v, CN %q", a.Cert.IsCA, a.Cert.Subject.CommonName)
	}
	spiffe, _ := url.Parse("spiffe://demo/node/a")
	kp, err := a.Issue(LeafSpec{CommonName: "a", OrganizationalUnit: []string{"ops"}, DNSNames: []string{"a.demo"},
		IPAddresses: []net.IP{net.IPv6loopback}, URIs: []*url.URL{spiffe}, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(kp.Certificate) != 1 || kp.Leaf == nil {
		t.Fatalf("chain length %d, leaf %v", len(kp.Certificate), kp.Leaf)
	}
	leaf := kp.Leaf
	if leaf.IsCA || leaf.Subject.OrganizationalUnit[0] != "ops" || leaf.URIs[0].String() != "spiffe://demo/node/a" {
		t.Errorf("leaf fields: IsCA %v, OU %v, URIs %v", leaf.IsCA, leaf.Subject.OrganizationalUnit, leaf.URIs)
	}
	if d := leaf.NotAfter.Sub(time.Now()); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("default validity leaves %v, want about 24h", d)
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.Cert)
	opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		t.Errorf("client leaf does not verify as a client: %v", err)
	}
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if _, err := leaf.Verify(opts); err == nil {
		t.Error("client-only leaf verifies as a server")
	}
}

func TestAuthorityIssueRSA(t *testing.T) {
	a, err := NewAuthority("demo CA")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := a.Issue(LeafSpec{CommonName: "big", DNSNames: []string{"localhost"}, Server: true, RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	key, ok := kp.PrivateKey.(*rsa.PrivateKey)
	if !ok || key.N.BitLen() != 2048 {
		t.Fatalf("key %T, want RSA 2048", kp.PrivateKey)
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.Cert)
	if _, err := kp.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err != nil {
		t.Errorf("RSA leaf does not verify: %v", err)
	}
}
