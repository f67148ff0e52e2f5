package integration

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testwait"
	"github.com/passtunnel/passtunnel/pki"
	"software.sslmate.com/src/go-pkcs12"
)

// TestKeyFormatTunnels: server tunnels whose identity is a PKCS#12 file
// and an encrypted PKCS#8 key (written by openssl), each opened with a
// key_passphrase from file(), serve openssl s_client; a replaced .p12 is
// presented from the next handshake on, without a restart.
func TestKeyFormatTunnels(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	ca := newAuthority(t, "passtunnel-it formats CA")
	dir := t.TempDir()
	caFile := writeFile(t, dir, "ca.crt", ca.CertPEM())
	pass, passPath := passFile(t)
	a, b, c := issueLeaf(t, ca), issueLeaf(t, ca), issueLeaf(t, ca)
	p12 := filepath.Join(dir, "node.p12")
	writeAtomic(t, p12, p12Bytes(t, ca, a, pass))

	plain := writeFile(t, dir, "plain.key", keyPEM(t, c))
	encKey := filepath.Join(dir, "enc.key")
	if out, err := exec.Command(openssl, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", plain, "-out", encKey,
		"-passout", "file:"+passPath).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs8: %v\n%s", err, out)
	}
	certC := writeFile(t, dir, "c.crt", pki.CertPEM(c.Certificate[0]))

	be := startEcho(t)
	p := runConfigText(t, `log_format = "text"
tunnel "p12" {
  mode   = "server"
  listen = "127.0.0.1:0"
  target = "`+be.addr+`"
  tls {
    pkcs12         = "`+p12+`"
    key_passphrase = file("`+passPath+`")
    client_auth    = "none"
  }
}
tunnel "pkcs8" {
  mode   = "server"
  listen = "127.0.0.1:0"
  target = "`+be.addr+`"
  tls {
    cert           = "`+certC+`"
    key            = "`+encKey+`"
    key_passphrase = file("`+passPath+`")
    client_auth    = "none"
  }
}
`, nil)
	for name, want := range map[string]tls.Certificate{"p12": a, "pkcs8": c} {
		addr := p.listenAddr(t, name)
		line := "through the " + name + " tunnel"
		s := startProc(t, openssl, []string{"s_client", "-connect", addr, "-CAfile", caFile, "-verify_return_error",
			"-verify_hostname", "localhost", "-servername", "localhost", "-quiet"}, procOpts{stdin: true})
		_, _ = s.stdin.Write([]byte(line + "\n"))
		s.mustLine(t, s.stdout, ioTimeout, "echo of "+line, func(l string) bool { return l == line })
		s.kill()
		if got := servedFP(t, addr, ca); got != pki.Fingerprint(want.Certificate[0]) {
			t.Fatalf("%s serves %s, want %s", name, got, pki.Fingerprint(want.Certificate[0]))
		}
	}

	// The same from flags: the password by reference only.
	flags := startFlags(t, "server", "--listen", "127.0.0.1:0", "--target", be.addr, "--client-auth", "none",
		"--cert", certC, "--key", encKey, "--key-passphrase-file", passPath)
	if got := servedFP(t, flags.listenAddr(t, "server"), ca); got != pki.Fingerprint(c.Certificate[0]) {
		t.Fatalf("--key-passphrase-file tunnel serves %s, want %s", got, pki.Fingerprint(c.Certificate[0]))
	}

	writeAtomic(t, p12, p12Bytes(t, ca, b, pass))
	addr := p.listenAddr(t, "p12")
	testwait.Until(t, startTimeout, "the new .p12 served", func() bool {
		return servedFP(t, addr, ca) == pki.Fingerprint(b.Certificate[0])
	})
	p.mustLog(t, startTimeout, "certificate reloaded naming the .p12",
		logMatch("certificate reloaded", "tunnel", "p12", "file", p12))
}

func issueLeaf(t *testing.T, ca *pkitest.Authority) tls.Certificate {
	t.Helper()
	spec := serverLeaf()
	spec.Validity = time.Hour
	c, err := ca.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func keyPEM(t *testing.T, c tls.Certificate) []byte {
	t.Helper()
	k, err := pki.KeyPEM(c.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// p12Bytes is leaf c with ca's certificate as its chain, as a PKCS#12 file
// encrypted with pass.
func p12Bytes(t *testing.T, ca *pkitest.Authority, c tls.Certificate, pass string) []byte {
	t.Helper()
	data, err := pkcs12.Modern.Encode(c.PrivateKey, c.Leaf, []*x509.Certificate{ca.Cert}, pass)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeAtomic replaces path with data by a rename, as deploy tools do.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// servedFP is the fingerprint of the leaf addr presents to a client that
// trusts ca.
func servedFP(t *testing.T, addr string, ca *pkitest.Authority) string {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	c := dialTLS(t, addr, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	defer c.Close()
	return pki.Fingerprint(c.ConnectionState().PeerCertificates[0].Raw)
}
