package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/internal/testwait"
	"software.sslmate.com/src/go-pkcs12"
)

const testKeyPassword = "correct horse battery"

func secret(v string) config.Secret { return config.NewSecret(v, "test") }

// p12Of encodes c (leaf, key, chain) as go-pkcs12's Modern encoder does:
// PBES2 with AES-256-CBC, as current openssl writes.
func p12Of(t testing.TB, c tls.Certificate, password string) []byte {
	t.Helper()
	var cas []*x509.Certificate
	for _, der := range c.Certificate[1:] {
		ca, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		cas = append(cas, ca)
	}
	data, err := pkcs12.Modern.Encode(c.PrivateKey, c.Leaf, cas, password)
	if err != nil {
		t.Fatalf("pkcs12 encode: %v", err)
	}
	return data
}

func issued(t *testing.T, ca testCA) tls.Certificate {
	t.Helper()
	c, err := ca.Issue(serverSpec())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPKCS12(t *testing.T) {
	ca := newTestCA(t, "p12")
	c := issued(t, ca)
	c.Certificate = append(c.Certificate, ca.Cert.Raw) // a chain to carry
	file := writeFile(t, "node.p12", p12Of(t, c, testKeyPassword))
	got, err := identityFiles{p12: file, pass: secret(testKeyPassword)}.load()
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if Fingerprint(got.Certificate[0]) != Fingerprint(c.Certificate[0]) || len(got.Certificate) != 2 {
		t.Fatalf("got %d certificates, leaf %s; want the leaf and its CA", len(got.Certificate), Fingerprint(got.Certificate[0]))
	}
	for _, tc := range []struct{ name, pass, want string }{
		{"wrong password", "nope", "wrong key_passphrase"},
		{"no password", "", "set tls.key_passphrase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := identityFiles{p12: file, pass: secret(tc.pass)}.load()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), file) {
				t.Fatalf("error %v: want %q and the file", err, tc.want)
			}
			if strings.Contains(err.Error(), testKeyPassword) {
				t.Fatal("the error shows the password")
			}
		})
	}
	empty := writeFile(t, "open.p12", p12Of(t, c, ""))
	if _, err := (identityFiles{p12: empty}).load(); err != nil {
		t.Fatalf("a PKCS#12 file with an empty password: %v", err)
	}
	if _, err := LoadKeyPair(file, ""); err == nil || !strings.Contains(err.Error(), "set it as tls.pkcs12") {
		t.Fatalf("a .p12 given as tls.cert: %v, want the pointer to tls.pkcs12", err)
	}
}

// The CA certificates of a .p12 come in any bag order; the chain sent is
// leaf first, then each issuer.
func TestPKCS12ChainOrder(t *testing.T) {
	root := newTestCA(t, "root")
	c := issued(t, root)
	other := newTestCA(t, "unrelated")
	cas := []*x509.Certificate{other.Cert, root.Cert}
	if got := orderChain(c.Leaf, cas); got[0] != root.Cert || got[1] != other.Cert {
		t.Fatalf("chain order: %v, %v; want the issuer first", got[0].Subject, got[1].Subject)
	}
}

func TestDERFiles(t *testing.T) {
	ca := newTestCA(t, "der")
	c := issued(t, ca)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, "leaf.der", c.Certificate[0])
	for name, key := range map[string][]byte{"pkcs8": pkcs8, "sec1": sec1} {
		got, err := LoadKeyPair(cert, writeFile(t, name+".der", key))
		if err != nil || Fingerprint(got.Certificate[0]) != Fingerprint(c.Certificate[0]) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, err = LoadKeyPair(writeFile(t, "junk.der", []byte{0x30, 1, 2}), writeFile(t, "k.der", pkcs8))
	if err == nil || !strings.Contains(err.Error(), "not a DER certificate either") || !strings.Contains(err.Error(), "junk.der") {
		t.Fatalf("junk certificate: %v", err)
	}
	_, err = LoadKeyPair(cert, writeFile(t, "junk.key", []byte{0x30, 1, 2}))
	if err == nil || !strings.Contains(err.Error(), "tried PKCS#8, PKCS#1, SEC1") || !strings.Contains(err.Error(), "junk.key") {
		t.Fatalf("junk key: %v", err)
	}
}

// Legacy encrypted PEM (Proc-Type: 4,ENCRYPTED) opens with the password
// and says that it is weak.
func TestLegacyEncryptedPEM(t *testing.T) {
	ca := newTestCA(t, "legacy")
	c := issued(t, ca)
	der, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	//nolint:staticcheck // writing the legacy format is the point
	b, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte(testKeyPassword), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, "leaf.crt", CertPEM(c.Certificate[0]))
	key := writeFile(t, "legacy.key", pem.EncodeToMemory(b))
	f := identityFiles{cert: cert, key: key, pass: secret(testKeyPassword)}
	_, got, legacy, err := f.read()
	if err != nil || !legacy || Fingerprint(got.Certificate[0]) != Fingerprint(c.Certificate[0]) {
		t.Fatalf("read: legacy %v, %v", legacy, err)
	}
	f.pass = secret("wrong")
	if _, err := f.load(); err == nil || !strings.Contains(err.Error(), "wrong key_passphrase") || !strings.Contains(err.Error(), key) {
		t.Fatalf("wrong password: %v", err)
	}
}

// openssl writes the encrypted PKCS#8 keys this test reads: the format
// as operators have it, not as this package would write it.
func TestEncryptedPKCS8FromOpenSSL(t *testing.T) {
	openssl := requireOpenSSL(t)
	ca := newTestCA(t, "pkcs8")
	c := issued(t, ca)
	plain, err := KeyPEM(c.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, pw := filepath.Join(dir, "plain.key"), filepath.Join(dir, "pw")
	testfs.RenameOver(t, in, plain)
	testfs.RenameOver(t, pw, []byte(testKeyPassword))
	cert := writeFile(t, "leaf.crt", CertPEM(c.Certificate[0]))
	for _, args := range [][]string{
		{"-v2", "aes-256-cbc"},
		{"-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"},
		{"-v2", "des3"},
		{"-v2", "aes-256-cbc", "-outform", "DER"},
	} {
		name := strings.Join(args, " ")
		out := filepath.Join(dir, strings.NewReplacer(" ", "_").Replace(name)+".key")
		cmd := exec.Command(openssl, append([]string{"pkcs8", "-topk8", "-in", in, "-out", out, "-passout", "file:" + pw}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl pkcs8 %s: %v\n%s", name, err, b)
		}
		f := identityFiles{cert: cert, key: out, pass: secret(testKeyPassword)}
		if got, err := f.load(); err != nil || Fingerprint(got.Certificate[0]) != Fingerprint(c.Certificate[0]) {
			t.Fatalf("%s: %v", name, err)
		}
		f.pass = secret("wrong password")
		if _, err := f.load(); err == nil || !strings.Contains(err.Error(), "wrong key_passphrase") || !strings.Contains(err.Error(), out) {
			t.Fatalf("%s, wrong password: %v", name, err)
		}
		f.pass = config.Secret{}
		if _, err := f.load(); err == nil || !strings.Contains(err.Error(), "set tls.key_passphrase") {
			t.Fatalf("%s, no password: %v", name, err)
		}
	}
}

// A replaced .p12 is served from the next handshake on, as PEM files are.
func TestReloadPKCS12(t *testing.T) {
	ca := newTestCA(t, "p12reload")
	a, b := issued(t, ca), issued(t, ca)
	file := filepath.Join(t.TempDir(), "node.p12")
	testfs.RenameOver(t, file, p12Of(t, a, testKeyPassword))
	m, logs := reloadManager(t, time.Hour, true)
	tn := tunnel(config.ModeServer, &config.TLS{PKCS12: file, KeyPassphrase: secret(testKeyPassword), ClientAuth: "none"})
	srv, err := m.ServerTLSConfig(tn)
	if err != nil {
		t.Fatal(err)
	}
	waitServed(t, srv, ca, Fingerprint(a.Certificate[0]))
	testfs.RenameOver(t, file, []byte("not pkcs12"))
	// the bad file is reported and the last good pair kept
	testwait.Until(t, reloadWait, "the bad file counted", func() bool { return m.ReloadStats()[tn.Name].Failed == 1 })
	if got := served(t, srv, ca); got != Fingerprint(a.Certificate[0]) {
		t.Fatalf("served %s after a bad .p12, want the last good one", got)
	}
	testfs.RenameOver(t, file, p12Of(t, b, testKeyPassword))
	waitServed(t, srv, ca, Fingerprint(b.Certificate[0]))
	if strings.Contains(logs.String(), testKeyPassword) {
		t.Fatal("the log shows the password")
	}
}

func requireOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("PASSTUNNEL_REQUIRE_PEERS") == "1" {
			t.Fatal("openssl not found, and PASSTUNNEL_REQUIRE_PEERS=1")
		}
		t.Skip("openssl not found: it writes the encrypted keys this test reads")
	}
	return p
}

// An encrypted PKCS#8 key (as openssl writes it) and a DER pair are
// followed like PEM files: a new pair replaces the old one at the next
// handshake, without a restart.
func TestReloadEncryptedAndDER(t *testing.T) {
	openssl := requireOpenSSL(t)
	ca := newTestCA(t, "formats-reload")
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	testfs.RenameOver(t, pw, []byte(testKeyPassword))
	encrypted := func(c tls.Certificate) []byte {
		plain, err := KeyPEM(c.PrivateKey.(crypto.Signer))
		if err != nil {
			t.Fatal(err)
		}
		in, out := filepath.Join(dir, "plain.key"), filepath.Join(dir, "enc.key")
		testfs.RenameOver(t, in, plain)
		cmd := exec.Command(openssl, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", in, "-out", out, "-passout", "file:"+pw)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl pkcs8: %v\n%s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	derKey := func(c tls.Certificate) []byte {
		b, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, f := range map[string]struct {
		cert func(tls.Certificate) []byte
		key  func(tls.Certificate) []byte
		pass config.Secret
	}{
		"encrypted PKCS#8": {func(c tls.Certificate) []byte { return CertPEM(c.Certificate[0]) }, encrypted, secret(testKeyPassword)},
		"DER":              {func(c tls.Certificate) []byte { return c.Certificate[0] }, derKey, config.Secret{}},
	} {
		t.Run(name, func(t *testing.T) {
			a, b := issued(t, ca), issued(t, ca)
			sub := t.TempDir()
			cert, key := filepath.Join(sub, "node.crt"), filepath.Join(sub, "node.key")
			testfs.RenameOver(t, key, f.key(a))
			testfs.RenameOver(t, cert, f.cert(a))
			m, _ := reloadManager(t, time.Hour, true)
			srv, err := m.ServerTLSConfig(tunnel(config.ModeServer,
				&config.TLS{Cert: cert, Key: key, KeyPassphrase: f.pass, ClientAuth: "none"}))
			if err != nil {
				t.Fatal(err)
			}
			waitServed(t, srv, ca, Fingerprint(a.Certificate[0]))
			testfs.RenameOver(t, key, f.key(b))
			testfs.RenameOver(t, cert, f.cert(b))
			waitServed(t, srv, ca, Fingerprint(b.Certificate[0]))
		})
	}
}
