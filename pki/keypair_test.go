package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// certFor signs a server certificate for an arbitrary key, so that every
// key type can be tested, not only the Authority's P-256.
func certFor(t *testing.T, ca testCA, pub crypto.PublicKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"db.internal"},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return CertPEM(der)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestLoadKeyPairKeyFormats(t *testing.T) {
	ca := newTestCA(t, "ca")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k crypto.Signer) []byte {
		b, err := KeyPEM(k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		key  crypto.Signer
		pem  []byte
	}{
		{"RSA PKCS#1", rsaKey, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"RSA PKCS#8", rsaKey, pkcs8(rsaKey)},
		{"EC SEC1 with params", ecKey, append(pemBlock("EC PARAMETERS", []byte{6, 5, 43, 129, 4, 0, 34}), pemBlock("EC PRIVATE KEY", sec1)...)},
		{"EC PKCS#8", ecKey, pkcs8(ecKey)},
		{"Ed25519 PKCS#8", edKey, pkcs8(edKey)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			certFile := writeFile(t, "c.pem", certFor(t, ca, tc.key.Public()))
			keyFile := writeFile(t, "k.pem", tc.pem)
			kp, err := LoadKeyPair(certFile, keyFile)
			if err != nil {
				t.Fatalf("LoadKeyPair: %v", err)
			}
			if !kp.PrivateKey.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.key.Public()) {
				t.Error("loaded a different key")
			}
			if kp.Leaf == nil || len(kp.Certificate) != 1 {
				t.Fatalf("Leaf %v, chain length %d", kp.Leaf, len(kp.Certificate))
			}
			srv := mustServer(t, &config.TLS{Cert: certFile, Key: keyFile, ClientAuth: "none"})
			if r := handshake(t, srv, mustClient(t, &config.TLS{CA: ca.file}, "db.internal")); !r.ok() {
				t.Fatalf("server: %v, client: %v", r.serverErr, r.clientErr)
			}
		})
	}
}

func TestLoadKeyPairChainKeptInOrder(t *testing.T) {
	ca := newTestCA(t, "ca")
	leafCert, leafKey := ca.issueFiles(t, "leaf", serverSpec())
	chain := writeFile(t, "chain.pem", append(readTestFile(t, leafCert), ca.CertPEM()...))
	kp, err := LoadKeyPair(chain, leafKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(kp.Certificate) != 2 || kp.Leaf.Subject.CommonName != "server" {
		t.Fatalf("chain length %d, leaf %q", len(kp.Certificate), kp.Leaf.Subject.CommonName)
	}
}

func TestLoadKeyPairErrors(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, key := ca.issueFiles(t, "a", serverSpec())
	_, otherKey := ca.issueFiles(t, "b", serverSpec())
	certPEM, keyPEM := readTestFile(t, cert), readTestFile(t, key)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name, cert, key string
		want            string // substring; the offending path is checked too
		blame           string
	}{
		{"no PEM", writeFile(t, "x.crt", []byte("hello")), key, `certificate file "%s": no PEM certificate found`, "cert"},
		{"bad cert block", writeFile(t, "x.crt", pemBlock("CERTIFICATE", []byte("junk"))), key, "PEM block #1 is not a valid certificate", "cert"},
		{"missing cert", missing, key, `certificate file "%s": no such file or directory`, "cert"},
		{"missing key", cert, missing, `key file "%s": no such file or directory`, "key"},
		{"key mismatch", cert, otherKey, "private key does not match the first certificate of", "key"},
		{"leaf not first", writeFile(t, "x.crt", append(ca.CertPEM(), certPEM...)), key, "but certificate #2", "key"},
		{"encrypted PKCS#8", cert, writeFile(t, "x.key", pemBlock("ENCRYPTED PRIVATE KEY", []byte{1})), "set tls.key_passphrase", "key"},
		{"encrypted legacy", cert, writeFile(t, "x.key", encrypted), "set tls.key_passphrase", "key"},
		{"two keys", cert, writeFile(t, "x.key", append(keyPEM, keyPEM...)), "found 2 private keys", "key"},
		{"key file without key", cert, cert, `key file "%s": no PEM private key found`, "key"},
		{"combined without key", cert, "", "no PEM private key found in the certificate file", "cert"},
		{"openssh key", cert, writeFile(t, "x.key", pemBlock("OPENSSH PRIVATE KEY", []byte{1})), `unsupported key block "OPENSSH PRIVATE KEY"`, "key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKeyPair(tc.cert, tc.key)
			if err == nil {
				t.Fatal("no error")
			}
			path := tc.cert
			if tc.blame == "key" {
				path = tc.key
			}
			want := strings.ReplaceAll(tc.want, "%s", path)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q\nwant it to contain %q and the path %q", err, want, path)
			}
		})
	}
}

func TestLoadCertPool(t *testing.T) {
	a, b := newTestCA(t, "a"), newTestCA(t, "b")
	bundle := writeFile(t, "bundle.pem", append(a.CertPEM(), b.CertPEM()...))
	pool, err := LoadCertPool(bundle)
	if err != nil {
		t.Fatal(err)
	}
	for _, ca := range []testCA{a, b} {
		leaf, err := ca.Issue(serverSpec())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "db.internal"}); err != nil {
			t.Errorf("leaf of %s not trusted by the bundle: %v", ca.Cert.Subject.CommonName, err)
		}
	}
	empty := writeFile(t, "empty.pem", nil)
	if _, err := LoadCertPool(empty); err == nil || !strings.Contains(err.Error(), `CA file "`+empty+`": no PEM certificate found`) {
		t.Errorf("empty bundle: error %v", err)
	}
	if _, err := LoadCertPool(empty + ".missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing bundle: error %v, want fs.ErrNotExist", err)
	}
}
