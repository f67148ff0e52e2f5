package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// TestOCSPStapling: a server tunnel on certificate files whose leaf names
// an OCSP responder (openssl ocsp, on a port it picks) staples the
// responder's answer, and openssl s_client -status reads it as good.
func TestOCSPStapling(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	ca := newAuthority(t, "passtunnel-it OCSP CA")
	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.crt", ca.CertPEM())
	caKey, err := pki.KeyPEM(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	caKeyFile := writeFile(t, dir, "ca.key", caKey)
	serial := big.NewInt(0x5A17C0DE)
	notAfter := time.Now().Add(time.Hour).UTC()
	index := fmt.Sprintf("V\t%s\t\t%X\tunknown\t/CN=localhost\n", notAfter.Format("060102150405Z"), serial)
	indexFile := writeFile(t, dir, "index.txt", []byte(index))

	// openssl ocsp takes only a port; port 0 lets the system pick a free
	// one, which it prints.
	resp := startProc(t, openssl, []string{"ocsp", "-index", indexFile, "-port", "0", "-rsigner", caFile,
		"-rkey", caKeyFile, "-CA", caFile, "-nmin", "10"}, procOpts{})
	accept := resp.mustLine(t, resp.stdout, startTimeout, "ACCEPT with the port", func(l string) bool {
		return strings.HasPrefix(l, "ACCEPT ")
	})
	_, port, err := net.SplitHostPort(strings.Fields(accept)[1])
	if err != nil {
		t.Fatalf("openssl ocsp printed %q: %v", accept, err)
	}
	certPEM, keyPEM := ocspLeaf(t, ca, serial, notAfter, "http://127.0.0.1:"+port)
	be := startEcho(t)
	p := runConfigText(t, `log_format = "text"
tunnel "stapled" {
  mode   = "server"
  listen = "127.0.0.1:0"
  target = "`+be.addr+`"
  tls {
    cert        = "`+writeFile(t, dir, "leaf.crt", certPEM)+`"
    key         = "`+writeFile(t, dir, "leaf.key", keyPEM)+`"
    client_auth = "none"
  }
}
`, nil)
	addr := p.listenAddr(t, "stapled")
	p.mustLog(t, startTimeout, "OCSP staple refreshed", logMatch("OCSP staple refreshed", "tunnel", "stapled"))

	s := startProc(t, openssl, []string{"s_client", "-connect", addr, "-CAfile", caFile, "-verify_return_error",
		"-servername", "localhost", "-status"}, procOpts{stdin: true})
	defer s.kill()
	s.mustLine(t, s.stdout, ioTimeout, "OCSP Response Status: successful", func(l string) bool {
		return strings.Contains(l, "OCSP Response Status: successful")
	})
	s.mustLine(t, s.stdout, ioTimeout, "Cert Status: good", func(l string) bool {
		return strings.Contains(l, "Cert Status: good")
	})
}

// ocspLeaf is a server certificate of ca with the given serial and OCSP
// responder, its file holding the CA too (the stapler needs the issuer).
func ocspLeaf(t *testing.T, ca *pkitest.Authority, serial *big.Int, notAfter time.Time, responder string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		OCSPServer: []string{responder},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	if keyPEM, err = pki.KeyPEM(key); err != nil {
		t.Fatal(err)
	}
	return append(pki.CertPEM(der), ca.CertPEM()...), keyPEM
}
