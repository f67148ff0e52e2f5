package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// TestClusterCAKnownAnswer pins the derivation: if it fails, every cluster's
// CA changed and nodes of this version no longer trust nodes of the last
// one. Do not update the constants; find what changed.
//
// The public key was cross-checked outside Go, with Python's cryptography
// package (Argon2id, HKDF-SHA256, Ed25519.from_private_bytes).
func TestClusterCAKnownAnswer(t *testing.T) {
	const (
		passphrase = "passtunnel known-answer test passphrase"
		wantFP     = "SHA256:CF:80:F8:B0:E9:56:39:A8:45:93:EE:6F:40:A0:F4:B5:" +
			"EC:6E:B4:62:D0:99:B1:87:81:80:9E:FF:30:D5:46:DC"
		wantPub = "ccbf371e13fcb6e97e0007a9db0f50aabb131aad8651c860248326d1aa91f129"
	)
	a, err := DeriveClusterCA(passphrase, "kat")
	if err != nil {
		t.Fatal(err)
	}
	b, err := DeriveClusterCA(passphrase, "kat")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Cert.Raw, b.Cert.Raw) || !bytes.Equal(a.CertPEM(), b.CertPEM()) {
		t.Fatal("two derivations gave different certificates")
	}
	if got := hex.EncodeToString(a.Cert.PublicKey.(ed25519.PublicKey)); got != wantPub {
		t.Errorf("public key %s, want %s", got, wantPub)
	}
	if got := a.Fingerprint(); got != wantFP {
		t.Errorf("fingerprint\n %s\nwant\n %s", got, wantFP)
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.Cert)
	if _, err := a.Cert.Verify(x509.VerifyOptions{Roots: roots}); err != nil {
		t.Errorf("the CA does not verify itself: %v", err)
	}
	if err := a.Cert.CheckSignatureFrom(a.Cert); err != nil {
		t.Errorf("self-signature: %v", err)
	}
}

func TestClusterCAFields(t *testing.T) {
	ca := derivedCA(t, pass1, "test")
	c := ca.Cert
	if !c.IsCA || !c.MaxPathLenZero || c.KeyUsage != x509.KeyUsageCertSign {
		t.Errorf("IsCA %v, MaxPathLenZero %v, KeyUsage %v", c.IsCA, c.MaxPathLenZero, c.KeyUsage)
	}
	if c.Subject.Organization[0] != "passtunnel" || c.Subject.OrganizationalUnit[0] != "test" ||
		!strings.HasPrefix(c.Subject.CommonName, "passtunnel cluster CA ") || len(c.Subject.CommonName) != 22+16 {
		t.Errorf("subject %v", c.Subject)
	}
	if !c.NotBefore.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || c.NotAfter.Year() != 9999 {
		t.Errorf("validity %v - %v", c.NotBefore, c.NotAfter)
	}
	if c.SerialNumber.Sign() <= 0 || len(c.SubjectKeyId) != 20 {
		t.Errorf("serial %v, SKID %x", c.SerialNumber, c.SubjectKeyId)
	}
	// The raw NotAfter is GeneralizedTime 99991231235959Z, as RFC 5280 asks.
	if !bytes.Contains(c.RawTBSCertificate, []byte("99991231235959Z")) {
		t.Error("NotAfter is not encoded as 99991231235959Z")
	}
	if ca.Cluster() != "test" {
		t.Errorf("Cluster() = %q", ca.Cluster())
	}
	if other := derivedCA(t, pass1, "other"); bytes.Equal(other.Cert.Raw, c.Raw) {
		t.Error("another cluster derived the same CA")
	}
}

func TestIssueNode(t *testing.T) {
	ca := derivedCA(t, pass1, "test")
	kp, err := ca.IssueNode("web-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf := kp.Leaf
	if leaf.Subject.CommonName != "web-1" || leaf.DNSNames[0] != "web-1.test.passtunnel.internal" ||
		leaf.URIs[0].String() != "spiffe://test/node/web-1" {
		t.Errorf("names: CN %q DNS %v URI %v", leaf.Subject.CommonName, leaf.DNSNames, leaf.URIs)
	}
	if d := time.Until(leaf.NotAfter); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expires in %v, want 1h", d)
	}
	if d := time.Since(leaf.NotBefore); d < 5*time.Minute || d > 6*time.Minute {
		t.Errorf("starts %v ago, want 5m", d)
	}
	if _, ok := kp.PrivateKey.(ed25519.PrivateKey); !ok {
		t.Errorf("node key is %T, want Ed25519", kp.PrivateKey)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
			t.Errorf("usage %v: %v", u, err)
		}
	}
	again, err := ca.IssueNode("web-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if again.Leaf.PublicKey.(ed25519.PublicKey).Equal(leaf.PublicKey) {
		t.Error("two node certificates share a key")
	}
	if _, err := ca.IssueNode("Web_1", time.Hour); err == nil {
		t.Error("invalid node name accepted")
	}
}

func TestDeriveRefusesBadInput(t *testing.T) {
	if _, err := DeriveClusterCA(pass1, "Not A Label"); err == nil || !strings.Contains(err.Error(), "invalid cluster name") {
		t.Errorf("bad cluster: %v", err)
	}
	if _, err := DeriveClusterCA("", "test"); err == nil {
		t.Error("empty passphrase accepted")
	}
}

func TestSanitizeNodeName(t *testing.T) {
	tests := map[string]string{
		"web-1": "web-1", "Web_1.example.com": "web-1", "": "node", "---": "node",
		"ip-10-0-0-1.ec2.internal": "ip-10-0-0-1", strings.Repeat("a", 70): strings.Repeat("a", 63),
		"höst": "h-st",
	}
	for in, want := range tests {
		if got := SanitizeNodeName(in); got != want {
			t.Errorf("SanitizeNodeName(%q) = %q, want %q", in, got, want)
		}
	}
}
