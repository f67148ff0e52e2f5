package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// Rewriting a server's tls.ca changes which clients get in, the CA names
// it advertises, and, because the chain is verified in VerifyConnection,
// whether a session issued before the change may resume.
func TestReloadClientCABundle(t *testing.T) {
	srvCA, caA, caB := newTestCA(t, "server-ca"), newTestCA(t, "clients-a"), newTestCA(t, "clients-b")
	cert, key := srvCA.issueFiles(t, "server", serverSpec())
	bundle := writeFile(t, "clients.crt", caA.CertPEM())
	m, _ := reloadManager(t, time.Hour, true)
	srv, err := m.ServerTLSConfig(serverTunnel(cert, key, bundle))
	if err != nil {
		t.Fatal(err)
	}
	var advertised [][]byte
	cliB := mustClient(t, &config.TLS{CA: srvCA.file}, "127.0.0.1")
	pairB := caB.issuePEM(t, clientSpec("b"))
	certB, err := tls.X509KeyPair(pairB.cert, pairB.key)
	if err != nil {
		t.Fatal(err)
	}
	cliB.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		advertised = cri.AcceptableCAs
		return &certB, nil
	}
	cliB.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	if r := handshake(t, srv, cliB); r.ok() || !strings.Contains(errText(r.serverErr), "unknown authority") {
		t.Fatalf("client of CA b accepted before b is trusted (server error %v)", r.serverErr)
	}
	testfs.RenameOver(t, bundle, append(caA.CertPEM(), caB.CertPEM()...))
	testwait.Until(t, reloadWait, "client of CA b accepted", func() bool { return handshake(t, srv, cliB).ok() })
	// A handshake that straddled the swap may have seen the old names:
	// look at a full handshake that started after it.
	full := cliB.Clone()
	full.ClientSessionCache = nil
	if r := handshake(t, srv, full); !r.ok() {
		t.Fatalf("full handshake of client b: server %v, client %v", r.serverErr, r.clientErr)
	}
	if !slices.ContainsFunc(advertised, func(n []byte) bool { return string(n) == string(caB.Cert.RawSubject) }) {
		t.Errorf("CertificateRequest does not name CA b after the reload: %q", advertised)
	}
	if r := handshake(t, srv, cliB); !r.ok() || !r.client.DidResume {
		t.Fatalf("session did not resume (ok %v): the test needs a resumption", r.ok())
	}
	testfs.RenameOver(t, bundle, caA.CertPEM())
	testwait.Until(t, reloadWait, "client of CA b refused again", func() bool { return !handshake(t, srv, cliB).ok() })
	cliA := mustClient(t, &config.TLS{CA: srvCA.file}, "127.0.0.1")
	cliA.Certificates = []tls.Certificate{issueCert(t, caA, clientSpec("a"))}
	if r := handshake(t, srv, cliA); !r.ok() {
		t.Fatalf("client of CA a refused: server %v, client %v", r.serverErr, r.clientErr)
	}
}

// Rewriting a client's tls.ca changes which servers it accepts; the
// server name is still checked against the new pool.
func TestReloadServerCABundle(t *testing.T) {
	caA, caB := newTestCA(t, "servers-a"), newTestCA(t, "servers-b")
	certB, keyB := caB.issueFiles(t, "server", serverSpec())
	srv := mustServer(t, &config.TLS{Cert: certB, Key: keyB, ClientAuth: "none"})
	wrongName := mustServer(t, &config.TLS{Cert: certB, Key: keyB, ClientAuth: "none"})
	wrongName.Certificates = []tls.Certificate{issueCert(t, caB, pkitest.LeafSpec{CommonName: "other", DNSNames: []string{"other.internal"}, Server: true})}
	bundle := writeFile(t, "servers.crt", caA.CertPEM())
	m, _ := reloadManager(t, time.Hour, true)
	cli, err := m.ClientTLSConfig(tunnel(config.ModeClient, &config.TLS{CA: bundle}), "127.0.0.1:6380")
	if err != nil {
		t.Fatal(err)
	}
	if r := handshake(t, srv, cli); r.ok() || !strings.Contains(errText(r.clientErr), "unknown authority") {
		t.Fatalf("server of CA b accepted before b is trusted (client error %v)", r.clientErr)
	}
	testfs.RenameOver(t, bundle, caB.CertPEM())
	testwait.Until(t, reloadWait, "server of CA b accepted", func() bool { return handshake(t, srv, cli).ok() })
	var hostErr x509.HostnameError
	if r := handshake(t, wrongName, cli); r.ok() || !errors.As(r.clientErr, &hostErr) {
		t.Fatalf("server certificate for another name accepted (client error %v)", r.clientErr)
	}
}

// A client tunnel presents its rewritten certificate at the next handshake.
func TestReloadClientCertificate(t *testing.T) {
	srvCA, cliCA := newTestCA(t, "server-ca"), newTestCA(t, "client-ca")
	sc, sk := srvCA.issueFiles(t, "server", serverSpec())
	srv := mustServer(t, &config.TLS{Cert: sc, Key: sk, CA: cliCA.file})
	a, b := cliCA.issuePEM(t, clientSpec("a")), cliCA.issuePEM(t, clientSpec("b"))
	dir := testfs.NewK8sDir(t, map[string][]byte{"tls.crt": a.cert, "tls.key": a.key})
	m, _ := reloadManager(t, time.Hour, true)
	c := &config.TLS{CA: srvCA.file, Cert: dir.Path("tls.crt"), Key: dir.Path("tls.key")}
	cli, err := m.ClientTLSConfig(tunnel(config.ModeClient, c), "127.0.0.1:6380")
	if err != nil {
		t.Fatal(err)
	}
	presented := func() string {
		r := handshake(t, srv, cli)
		if !r.ok() {
			t.Fatalf("handshake: server %v, client %v", r.serverErr, r.clientErr)
		}
		return Fingerprint(r.server.PeerCertificates[0].Raw)
	}
	if got := presented(); got != a.fp {
		t.Fatalf("presented %s, want %s", got, a.fp)
	}
	dir.Update(t, map[string][]byte{"tls.crt": b.cert, "tls.key": b.key})
	testwait.Until(t, reloadWait, "the new client certificate presented", func() bool { return presented() == b.fp })
}

// Building the same tunnel again (a config reload) shares the files'
// source: one reload, one log line; Release of every config unwatches.
func TestReloadSharedAndReleased(t *testing.T) {
	ca := newTestCA(t, "shared")
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	dir := testfs.NewK8sDir(t, map[string][]byte{"tls.crt": a.cert, "tls.key": a.key, "ca.crt": ca.CertPEM()})
	m, logs := reloadManager(t, time.Hour, true)
	tun := serverTunnel(dir.Path("tls.crt"), dir.Path("tls.key"), dir.Path("ca.crt"))
	first, err := m.Server(tun)
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.Server(tun)
	if err != nil {
		t.Fatal(err)
	}
	dir.Update(t, map[string][]byte{"tls.crt": b.cert, "tls.key": b.key, "ca.crt": ca.CertPEM()})
	for _, cfg := range []*tls.Config{first.Config, second.Config} {
		cli := mustClient(t, &config.TLS{CA: ca.file}, "127.0.0.1")
		cli.Certificates = []tls.Certificate{issueCert(t, ca, clientSpec("c"))}
		testwait.Until(t, reloadWait, "new pair served", func() bool {
			r := handshake(t, cfg, cli)
			return r.ok() && Fingerprint(r.client.PeerCertificates[0].Raw) == b.fp
		})
	}
	if n := strings.Count(logs.String(), "certificate reloaded"); n != 1 {
		t.Errorf("%d reload lines for one change of one pair, want 1", n)
	}
	first.Release()
	// The mount, and the timestamped directory ..data leads to now.
	resolved, err := filepath.EvalSymlinks(dir.Path("tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir.Dir, filepath.Dir(resolved)}
	if dirs, n := watched(m); !slices.Equal(dirs, want) || n != 2 {
		t.Errorf("directories %q, %d sources after releasing one of two configs; want %q, 2", dirs, n, want)
	}
	second.Release()
	if dirs, n := watched(m); len(dirs) != 0 || n != 0 {
		t.Errorf("directories %q, %d sources after releasing every config; want none", dirs, n)
	}
}

func watched(m *Manager) (dirs []string, sources int) {
	m.reload.mu.Lock()
	defer m.reload.mu.Unlock()
	return m.reload.w.Dirs(), len(m.reload.entries)
}

func issueCert(t *testing.T, ca testCA, spec pkitest.LeafSpec) tls.Certificate {
	t.Helper()
	c, err := ca.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
