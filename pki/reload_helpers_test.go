package pki

import (
	"crypto"
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/internal/testlog"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// reloadWait bounds every wait for a reload; a reload takes a debounce
// (testDebounce) or an interval, far below it.
const (
	reloadWait   = 10 * time.Second
	testDebounce = 50 * time.Millisecond
)

// pemPair is a certificate and its key as files hold them.
type pemPair struct {
	cert, key []byte
	fp        string // fingerprint of the leaf
	notAfter  time.Time
}

func (ca testCA) issuePEM(t *testing.T, spec pkitest.LeafSpec) pemPair {
	t.Helper()
	c, err := ca.Issue(spec)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	key, err := KeyPEM(c.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	return pemPair{cert: CertPEM(c.Certificate[0]), key: key, fp: Fingerprint(c.Certificate[0]), notAfter: c.Leaf.NotAfter}
}

// reloadManager is a Manager with a short debounce whose log the test
// reads; it is closed when the test ends.
func reloadManager(t *testing.T, interval time.Duration, events bool) (*Manager, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	m := NewManager(Options{Logger: textLogger(logs), ReloadInterval: interval})
	m.reload.debounce = testDebounce
	m.reload.events = events
	t.Cleanup(m.Close)
	return m, logs
}

// pairFiles writes p as tls.crt and tls.key in a new directory, each by
// testfs.RenameOver, so that a test can then rotate them one file at a time.
func pairFiles(t *testing.T, p pemPair) (cert, key string) {
	t.Helper()
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	testfs.RenameOver(t, cert, p.cert)
	testfs.RenameOver(t, key, p.key)
	return cert, key
}

// served is the fingerprint of the certificate srv presents to a client
// that trusts ca.
func served(t *testing.T, srv *tls.Config, ca testCA) string {
	t.Helper()
	cli := mustClient(t, &config.TLS{CA: ca.file}, "127.0.0.1")
	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("handshake: server %v, client %v", r.serverErr, r.clientErr)
	}
	return Fingerprint(r.client.PeerCertificates[0].Raw)
}

// waitServed waits until srv presents the certificate with fingerprint fp.
func waitServed(t *testing.T, srv *tls.Config, ca testCA, fp string) {
	t.Helper()
	testwait.Until(t, reloadWait, "certificate "+fp+" served", func() bool { return served(t, srv, ca) == fp })
}

// serverTunnel is a server tunnel over cert and key files.
func serverTunnel(cert, key, ca string) *config.Tunnel {
	c := &config.TLS{Cert: cert, Key: key, CA: ca, ClientAuth: "none"}
	if ca != "" {
		c.ClientAuth = "require"
	}
	return tunnel(config.ModeServer, c)
}

// checkAll re-reads every source at once, as a check after a file event
// does.
func (r *reloader) checkAll() {
	r.mu.Lock()
	srcs := make([]reloadable, 0, len(r.entries))
	for _, e := range r.entries {
		srcs = append(srcs, e.src)
	}
	r.mu.Unlock()
	for _, s := range srcs {
		s.check()
	}
}
