package pki

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testlog"
)

// crlOf is a CRL of ca listing serials, valid until next.
func crlOf(t *testing.T, ca *pkitest.Authority, next time.Time, serials ...*big.Int) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: next}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func issuedLeaf(t *testing.T, ca *pkitest.Authority, cn string) *x509.Certificate {
	t.Helper()
	c, err := ca.Issue(clientSpec(cn))
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf
}

// PEM and DER CRLs both load; the listed certificate is refused as
// revoked, another of the same CA is not.
func TestCRLPEMAndDER(t *testing.T) {
	ca := newTestCA(t, "crl")
	bad, good := issuedLeaf(t, ca.Authority, "bad"), issuedLeaf(t, ca.Authority, "good")
	der := crlOf(t, ca.Authority, time.Now().Add(time.Hour), bad.SerialNumber)
	for name, data := range map[string][]byte{
		"r.der": der,
		"r.pem": pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}),
	} {
		set, err := readCRLs(ca.file, []string{writeFile(t, name, data)}, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err = set.check([]*x509.Certificate{bad, ca.Cert}, time.Now())
		var r *revokedError
		if !errors.As(err, &r) || r.HandshakeReason() != ReasonRevoked || !strings.Contains(err.Error(), "revoked by tls.crl") {
			t.Errorf("%s: revoked leaf: %v", name, err)
		}
		if err := set.check([]*x509.Certificate{good, ca.Cert}, time.Now()); err != nil {
			t.Errorf("%s: good leaf: %v", name, err)
		}
	}
}

// A CRL whose signature does not verify against tls.ca is refused, even
// when its issuer name is that of the CA: a forged list would otherwise
// un-revoke nothing while looking in force.
func TestCRLBadSignatureRefused(t *testing.T) {
	ca, impostor := newTestCA(t, "same"), newTestCA(t, "same")
	file := writeFile(t, "r.der", crlOf(t, impostor.Authority, time.Now().Add(time.Hour)))
	_, err := readCRLs(ca.file, []string{file}, nil)
	if err == nil || !strings.Contains(err.Error(), "not signed by any certificate of tls.ca") {
		t.Fatalf("err = %v", err)
	}
	junk := writeFile(t, "j.pem", []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))
	if _, err := readCRLs(ca.file, []string{junk}, nil); err == nil || !strings.Contains(err.Error(), "not a PEM or DER CRL") {
		t.Fatalf("junk: %v", err)
	}
}

// A CRL past its NextUpdate still revokes, with one warning.
func TestCRLStaleStillUsed(t *testing.T) {
	ca := newTestCA(t, "stale")
	bad := issuedLeaf(t, ca.Authority, "bad")
	var buf testlog.Buffer
	set, err := readCRLs(ca.file, []string{writeFile(t, "r.der", crlOf(t, ca.Authority, time.Now().Add(-time.Minute), bad.SerialNumber))},
		slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := set.check([]*x509.Certificate{bad, ca.Cert}, time.Now()); err == nil {
			t.Fatal("stale CRL did not revoke")
		}
	}
	if n := strings.Count(buf.String(), "past its next update"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, buf.String())
	}
}

// deny { } refuses by fingerprint (any certificate sent) and by the leaf's
// serial, in hex with colons or decimal.
func TestDenyList(t *testing.T) {
	ca := newTestCA(t, "deny")
	a, b := issuedLeaf(t, ca.Authority, "a"), issuedLeaf(t, ca.Authority, "b")
	hexSerial := serialHex(b)
	if !strings.Contains(hexSerial, ":") { // one byte: colon form needs two
		hexSerial = b.SerialNumber.String()
	}
	tun := &config.Tunnel{Name: "t", Deny: config.Deny{Fingerprints: []string{Fingerprint(a.Raw)}, Serials: []string{hexSerial}}}
	d, err := compileDeny(tun)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*x509.Certificate{a, b} {
		err := d.check(c, []*x509.Certificate{c})
		var r *revokedError
		if !errors.As(err, &r) {
			t.Errorf("%s: %v", c.Subject.CommonName, err)
		}
	}
	other := issuedLeaf(t, ca.Authority, "c")
	if err := d.check(other, []*x509.Certificate{other}); err != nil {
		t.Errorf("other: %v", err)
	}
	tun.Deny = config.Deny{Serials: []string{other.SerialNumber.String()}}
	if d, _ = compileDeny(tun); d.check(other, []*x509.Certificate{other}) == nil {
		t.Error("decimal serial not denied")
	}
}

// A server certificate with a CN and no SAN: refused by default with the
// fix named, matched on its CN with legacy_common_name (one warning per
// certificate), accepted by verify = "chain" whatever its CN.
func TestLegacyCommonName(t *testing.T) {
	ca := newTestCA(t, "cn")
	cert, err := ca.Issue(pkitest.LeafSpec{CommonName: "db.internal", Server: true})
	if err != nil {
		t.Fatal(err)
	}
	if hasSAN(cert.Leaf) {
		t.Fatal("test certificate has a SAN")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	certs := []*x509.Certificate{cert.Leaf}
	check := func(tl config.TLS, name string, log *slog.Logger) error {
		tun := &config.Tunnel{Name: "t", Mode: config.ModeClient, TLS: &tl}
		_, err := serverChain(tun, fixedPool(pool), name, time.Now, log)(certs)
		return err
	}
	err = check(config.TLS{Verify: config.VerifyName}, "db.internal", nil)
	var ve *tls.CertificateVerificationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "set tls.legacy_common_name = true") {
		t.Errorf("default: %v", err)
	}
	var buf testlog.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	legacy := config.TLS{Verify: config.VerifyName, LegacyCommonName: true}
	tun := &config.Tunnel{Name: "t", Mode: config.ModeClient, TLS: &legacy}
	chk := serverChain(tun, fixedPool(pool), "DB.internal.", time.Now, log)
	for range 2 {
		if _, err := chk(certs); err != nil {
			t.Fatalf("legacy: %v", err)
		}
	}
	if n := strings.Count(buf.String(), "matched on its CN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, buf.String())
	}
	if err := check(legacy, "other.internal", nil); err == nil || !strings.Contains(err.Error(), `is not "other.internal"`) {
		t.Errorf("legacy, other name: %v", err)
	}
	if err := check(config.TLS{Verify: config.VerifyChain}, "other.internal", nil); err != nil {
		t.Errorf("chain: %v", err)
	}
}
