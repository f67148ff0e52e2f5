package pki

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// nodeCertFor is a node certificate of ca for pub, named node.
func nodeCertFor(t *testing.T, ca *ClusterCA, pub ed25519.PublicKey, node string) *x509.Certificate {
	t.Helper()
	c, err := ca.certifyNode(pub, node, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// selfSignedFor is a self-signed certificate for key, with template's
// names: what an attacker puts in front of a real node certificate.
func selfSignedFor(t *testing.T, key ed25519.PrivateKey, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(7)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNodeChainShape: what verification accepts of a passphrase peer's
// chain, and what it refuses before any signature check.
func TestNodeChainShape(t *testing.T) {
	ca1, ca2 := derivedCA(t, pass1, "test"), derivedCA(t, pass2, "test")
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	leaf := nodeCertFor(t, ca1, pub, "evil")
	rotating := nodeCertFor(t, ca2, pub, "evil") // the same node, certified by a CA not trusted here
	forged := selfSignedFor(t, key, &x509.Certificate{Subject: pkix.Name{CommonName: "db-1"}})
	sameNames := selfSignedFor(t, key, &x509.Certificate{Subject: leaf.Subject, DNSNames: leaf.DNSNames, URIs: leaf.URIs})
	otherNames := selfSignedFor(t, key, &x509.Certificate{Subject: leaf.Subject, DNSNames: []string{"db-1.test.passtunnel.internal"},
		URIs: []*url.URL{{Scheme: "spiffe", Host: "test", Path: "/node/db-1"}}})
	check := nodeChains([]*ClusterCA{ca1}, x509.ExtKeyUsageClientAuth, time.Now)
	for _, tc := range []struct {
		name   string
		certs  []*x509.Certificate
		accept *x509.Certificate // nil: refused
		want   string            // in the refusal
	}{
		{"node certificate", []*x509.Certificate{leaf}, leaf, ""},
		{"rotation: the trusted one is second", []*x509.Certificate{rotating, leaf}, leaf, ""},
		{"the cluster CA sent after the leaf", []*x509.Certificate{leaf, ca1.Cert}, leaf, ""},
		{"same names, not signed by the CA, first", []*x509.Certificate{sameNames, leaf}, leaf, ""},
		{"forged name first", []*x509.Certificate{forged, leaf}, nil, "certificate 2 names another subject than the first"},
		{"forged names, same subject", []*x509.Certificate{otherNames, leaf}, nil, "certificate 2 has other alternative names"},
		{"another key", []*x509.Certificate{leaf, nodeCertFor(t, ca1, otherPub, "evil")}, nil, "certificate 2 is for another key"},
		{"longer than one per CA", []*x509.Certificate{leaf, leaf, leaf}, nil, "sent 3 certificates; a node sends one per cluster CA, and 1 are trusted here"},
		{"self-signed alone", []*x509.Certificate{forged}, nil, "is not signed by this cluster's CA"},
		{"another cluster's certificate alone", []*x509.Certificate{rotating}, nil, "is not signed by this cluster's CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain, err := check(tc.certs)
			switch {
			case tc.accept != nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.accept != nil && chain[0] != tc.accept:
				t.Fatalf("accepted %q issued by %q, want the certificate of the trusted CA", chain[0].Subject, chain[0].Issuer)
			case tc.accept == nil && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A certificate that names no trusted CA by its authority key id costs no
// signature check.
func TestRootForByKeyID(t *testing.T) {
	ca1 := derivedCA(t, pass1, "test")
	roots := []clusterRoot{{cert: ca1.Cert}}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	if rootFor(nodeCertFor(t, ca1, pub, "n"), roots) == nil {
		t.Error("a node certificate of the CA does not name it")
	}
	stranger := selfSignedFor(t, key, &x509.Certificate{Subject: ca1.Cert.Subject, AuthorityKeyId: []byte("not the CA's key id")})
	if rootFor(stranger, roots) != nil {
		t.Error("a certificate naming another key id was matched to the CA")
	}
}

// TestVerdictNamesTheVerifiedCertificate: a node in a rotation presents
// its new CA's certificate first; a server that trusts only the old CA
// accepts the second one, and the verdict is that one.
func TestVerdictNamesTheVerifiedCertificate(t *testing.T) {
	srv, err := newTestManager(Options{NodeName: "s"}).Server(ptunnel(config.ModeServer, pass1))
	if err != nil {
		t.Fatal(err)
	}
	cli := clientConfig(t, newTestManager(Options{NodeName: "rotating"}), ptunnel(config.ModeClient, pass2, pass1))
	r := handshake(t, srv.Config, cli)
	if !r.ok() {
		t.Fatalf("server %v, client %v", r.serverErr, r.clientErr)
	}
	peer, err := srv.Peer(r.server)
	if err != nil {
		t.Fatal(err)
	}
	old := derivedCA(t, pass1, "test")
	if peer == r.server.PeerCertificates[0] || peer.CheckSignatureFrom(old.Cert) != nil {
		t.Errorf("the verdict is %q issued by %q, not the certificate the trusted CA signed", peer.Subject, peer.Issuer)
	}
}

// TestVerdictWithoutVerification: a peer nobody verifies has no identity,
// whatever it sent.
func TestVerdictWithoutVerification(t *testing.T) {
	e := &Endpoint{Config: &tls.Config{}}
	peer, err := e.Peer(tls.ConnectionState{PeerCertificates: []*x509.Certificate{derivedCA(t, pass1, "test").Cert}})
	if peer != nil || err != nil {
		t.Fatalf("verdict %v, %v; want none", peer, err)
	}
}
