package pki

import (
	"crypto"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
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

func (ca testCA) issuePEM(t *testing.T, spec LeafSpec) pemPair {
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
func reloadManager(t *testing.T, interval time.Duration, events bool) (*Manager, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	m := NewManager(Options{Logger: textLogger(logs), ReloadInterval: interval})
	m.reload.debounce = testDebounce
	m.reload.events = events
	t.Cleanup(m.Close)
	return m, logs
}

// k8sDir is a directory laid out as the kubelet mounts a Secret: the files
// live in a timestamped directory, `..data` links to it, and each name
// links through `..data`. update swaps `..data` atomically, as the kubelet
// does, then deletes the old directory.
type k8sDir struct {
	dir, cur string
	n        int
}

func newK8sDir(t *testing.T, files map[string][]byte) *k8sDir {
	t.Helper()
	k := &k8sDir{dir: t.TempDir()}
	k.update(t, files)
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(k.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func (k *k8sDir) path(name string) string { return filepath.Join(k.dir, name) }

func (k *k8sDir) update(t *testing.T, files map[string][]byte) {
	t.Helper()
	k.n++
	ts := fmt.Sprintf("..2026_01_02_03_04_05.%09d", k.n)
	if err := os.Mkdir(filepath.Join(k.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(k.dir, ts, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if k.cur != "" {
		if err := os.RemoveAll(filepath.Join(k.dir, k.cur)); err != nil {
			t.Fatal(err)
		}
	}
	k.cur = ts
}

// renameOver writes data the way editors and most tools do: a new file
// beside the old one, renamed over it.
func renameOver(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// pairFiles writes p as tls.crt and tls.key in a new directory, each by
// renameOver, so that a test can then rotate them one file at a time.
func pairFiles(t *testing.T, p pemPair) (cert, key string) {
	t.Helper()
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	renameOver(t, cert, p.cert)
	renameOver(t, key, p.key)
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
	waitFor(t, "certificate "+fp+" served", func() bool { return served(t, srv, ca) == fp })
}

// waitFor polls cond every 10 ms until it holds, for at most reloadWait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(reloadWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for: %s", reloadWait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	srcs := make([]source, 0, len(r.entries))
	for _, e := range r.entries {
		srcs = append(srcs, e.src)
	}
	r.mu.Unlock()
	for _, s := range srcs {
		s.check()
	}
}
