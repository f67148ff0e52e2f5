package pki

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"software.sslmate.com/src/go-pkcs12"
)

// fuzzPair is a valid certificate (PEM and DER) and its key (PKCS#8 PEM),
// and the same pair as a PKCS#12 file under testKeyPassword.
type fuzzPair struct{ certPEM, certDER, keyPEM, p12, p12Legacy []byte }

func newFuzzPair(f *testing.F) fuzzPair {
	a, err := pkitest.NewAuthority("fuzz CA")
	if err != nil {
		f.Fatal(err)
	}
	c, err := a.Issue(pkitest.LeafSpec{CommonName: "fuzz", DNSNames: []string{"fuzz.internal"}})
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		f.Fatal(err)
	}
	legacy, err := pkcs12.LegacyRC2.Encode(c.PrivateKey, c.Leaf, nil, testKeyPassword)
	if err != nil {
		f.Fatal(err)
	}
	return fuzzPair{certPEM: CertPEM(c.Certificate[0]), certDER: c.Certificate[0],
		keyPEM: pemBlock("PRIVATE KEY", der), p12: p12Of(f, c, testKeyPassword), p12Legacy: legacy}
}

// FuzzLoadKeyPair writes two byte strings as a certificate file and a key
// file and loads them as tls.cert/tls.key, then the first alone as a file
// holding both: bad files are errors, never a panic.
func FuzzLoadKeyPair(f *testing.F) {
	p := newFuzzPair(f)
	both := append(append([]byte{}, p.certPEM...), p.keyPEM...)
	f.Add(p.certPEM, p.keyPEM)
	f.Add(p.certDER, p.keyPEM)
	f.Add(both, []byte{})
	f.Add(p.keyPEM, p.certPEM)
	f.Add(p.certPEM[:len(p.certPEM)/2], p.keyPEM[:len(p.keyPEM)-40])
	f.Add(pemBlock("CERTIFICATE", []byte("not DER")), pemBlock("EC PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01}))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n"), []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----END"))
	f.Fuzz(func(t *testing.T, certData, keyData []byte) {
		dir := t.TempDir()
		cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		if err := os.WriteFile(cert, certData, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(key, keyData, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, files := range []identityFiles{{cert: cert, key: key}, {cert: cert},
			{cert: cert, key: key, pass: secret(testKeyPassword)}} {
			c, err := files.load()
			if err == nil && (c.PrivateKey == nil || len(c.Certificate) == 0) {
				t.Fatalf("%+v loaded with no key or no certificate", files)
			}
		}
	})
}

// FuzzPKCS12 loads bytes as tls.p12 with a password: a file that is not
// PKCS#12, is damaged, or has another password is an error, never a panic.
func FuzzPKCS12(f *testing.F) {
	p := newFuzzPair(f)
	f.Add(p.p12, testKeyPassword)
	f.Add(p.p12, "")
	f.Add(p.p12Legacy, testKeyPassword)
	f.Add(p.p12[:len(p.p12)/2], testKeyPassword)
	f.Add(p.p12Legacy[:len(p.p12Legacy)-7], "wrong")
	f.Add(p.certDER, testKeyPassword)
	f.Add([]byte{0x30, 0x80, 0x02, 0x01, 0x03}, "")
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		file := filepath.Join(t.TempDir(), "node.p12")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := identityFiles{p12: file, pass: secret(password)}.load()
		if err == nil && (c.PrivateKey == nil || len(c.Certificate) == 0) {
			t.Fatal("PKCS#12 loaded with no key or no certificate")
		}
	})
}
