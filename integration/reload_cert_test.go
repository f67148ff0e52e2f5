package integration

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// rotationDeadline is how soon after a rewrite the new certificate must be
// served: the watcher's debounce (300 ms) plus a handshake, with margin.
const rotationDeadline = 2 * time.Second

// TestCertReloadUnderLoad runs a server tunnel on a Kubernetes-style Secret
// mount while a client connects every 50 ms, and rotates the certificate
// three ways: a kubelet `..data` swap, an editor's rename-over, and the
// certificate written well before its key. Each new certificate is served
// within rotationDeadline, a file that does not parse leaves the last one
// in service, and no connection fails at any point.
func TestCertReloadUnderLoad(t *testing.T) {
	ca := newAuthority(t, "passtunnel-it reload CA")
	caPEM := ca.CertPEM()
	pairs := make([]certPEM, 4)
	for i := range pairs {
		pairs[i] = issuePEM(t, ca, serverLeaf())
	}
	mount := t.TempDir()
	secretSwap(t, mount, 1, map[string][]byte{"tls.crt": pairs[0].cert, "tls.key": pairs[0].key, "ca.crt": caPEM})
	for _, name := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(mount, name)); err != nil {
			t.Fatal(err)
		}
	}
	be := startEcho(t)
	p := startRun(t, tun{name: "edge", mode: "server", listen: "127.0.0.1:0", target: be.addr,
		cert: filepath.Join(mount, "tls.crt"), key: filepath.Join(mount, "tls.key"), ca: filepath.Join(mount, "ca.crt")})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	client := issuePEM(t, ca, pkitest.LeafSpec{CommonName: "reload-client", Client: true})
	pr := startProber(t, p.listenAddr(t, "edge"), &tls.Config{
		RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{client.pair(t)},
	})
	pr.waitServed(t, pairs[0].fp, startTimeout)

	// 1. The kubelet's atomic `..data` symlink swap.
	secretSwap(t, mount, 2, map[string][]byte{"tls.crt": pairs[1].cert, "tls.key": pairs[1].key, "ca.crt": caPEM})
	pr.waitServed(t, pairs[1].fp, rotationDeadline)
	p.mustLog(t, startTimeout, "certificate reloaded with the new fingerprint",
		logMatch("certificate reloaded", "tunnel", "edge", "fingerprint", pairs[1].fp))

	// 2. An editor's rename-over, of the key then the certificate (over
	// the Secret's symlinks, which they replace).
	replaceFile(t, filepath.Join(mount, "tls.key"), string(pairs[2].key))
	replaceFile(t, filepath.Join(mount, "tls.crt"), string(pairs[2].cert))
	pr.waitServed(t, pairs[2].fp, rotationDeadline)

	// 3. The certificate first, its key a moment (more than the debounce)
	// later: the old pair stays in service meanwhile.
	replaceFile(t, filepath.Join(mount, "tls.crt"), string(pairs[3].cert))
	pr.waitConnections(t, 15)
	if got := pr.latest(); got != pairs[2].fp {
		t.Fatalf("served %s while the key file did not match, want the last good %s", got, pairs[2].fp)
	}
	replaceFile(t, filepath.Join(mount, "tls.key"), string(pairs[3].key))
	pr.waitServed(t, pairs[3].fp, rotationDeadline)

	// 4. A file that does not parse: the last good pair stays.
	replaceFile(t, filepath.Join(mount, "tls.crt"), "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n")
	p.mustLog(t, startTimeout, "certificate reload failed, naming the bad file", func(e logEntry) bool {
		return logMatch("certificate reload failed", "tunnel", "edge")(e) &&
			strings.Contains(e.str("reason"), "not a valid certificate")
	})
	pr.waitConnections(t, 5)
	if got := pr.latest(); got != pairs[3].fp {
		t.Fatalf("served %s after a bad file, want the last good %s", got, pairs[3].fp)
	}

	n, failures := pr.stop()
	if len(failures) > 0 {
		t.Fatalf("%d of %d connections failed during the rotations, first: %v", len(failures), n, failures[0])
	}
	t.Logf("%d connections, none failed", n)
}

// certPEM is a certificate and its key as PEM, with the leaf fingerprint.
type certPEM struct {
	cert, key []byte
	fp        string
}

func issuePEM(t *testing.T, ca *pkitest.Authority, spec pkitest.LeafSpec) certPEM {
	t.Helper()
	spec.Validity = time.Hour
	c, err := ca.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.KeyPEM(c.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	return certPEM{cert: pki.CertPEM(c.Certificate[0]), key: key, fp: pki.Fingerprint(c.Certificate[0])}
}

func (c certPEM) pair(t *testing.T) tls.Certificate {
	t.Helper()
	kp, err := tls.X509KeyPair(c.cert, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func serverLeaf() pkitest.LeafSpec {
	return pkitest.LeafSpec{CommonName: "localhost", DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}
}

// secretSwap updates a Secret or ConfigMap volume as the kubelet does: the
// files go into a new timestamped directory, `..data_tmp` links to it and is
// renamed over `..data`, then the previous directory is deleted.
func secretSwap(t *testing.T, mount string, version int, files map[string][]byte) {
	t.Helper()
	dir := fmt.Sprintf("..2026_01_01_00_00_%02d.%d", version, version)
	if err := os.Mkdir(filepath.Join(mount, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		writeFile(t, filepath.Join(mount, dir), name, data)
	}
	old, _ := os.Readlink(filepath.Join(mount, "..data"))
	tmp := filepath.Join(mount, "..data_tmp")
	if err := os.Symlink(dir, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(mount, "..data")); err != nil {
		t.Fatal(err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(mount, old)); err != nil {
			t.Fatal(err)
		}
	}
}
