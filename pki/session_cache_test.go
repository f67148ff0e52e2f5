package pki

import (
	"crypto/tls"
	"io"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// TestFilePairResumesUntilACertificateChanges: a client tunnel and a server
// tunnel with certificate files resume sessions (the client keeps a cache);
// once the server's certificate is reloaded, the next connection is a full
// handshake that shows the new certificate, and once the client's is, the
// server sees the new client certificate.
func TestFilePairResumesUntilACertificateChanges(t *testing.T) {
	p := newFilePair(t, "client-1")
	srv, cli := p.srv, p.cli
	if r := handshake(t, srv, cli); !r.ok() || r.client.DidResume {
		t.Fatalf("first: ok %v resumed %v (server %v, client %v)", r.ok(), r.client.DidResume, r.serverErr, r.clientErr)
	}
	for _, which := range []string{"second", "third (on the ticket of a resumed session)"} {
		if r := handshake(t, srv, cli); !r.ok() || !r.client.DidResume {
			t.Fatalf("%s: ok %v resumed %v: a file-certificate pair must resume", which, r.ok(), r.client.DidResume)
		}
	}

	newSrv := p.replaceServer(t)
	testwait.Until(t, reloadWait, "the new server certificate on a full handshake", func() bool {
		r := handshake(t, srv, cli)
		return r.ok() && !r.client.DidResume && Fingerprint(r.client.PeerCertificates[0].Raw) == newSrv.fp
	})

	p.replaceClient(t, "client-2")
	testwait.Until(t, reloadWait, "the client tunnel holding its new certificate", func() bool {
		c, err := cli.GetClientCertificate(nil)
		return err == nil && c.Leaf.Subject.CommonName == "client-2"
	})
	// A session made under client-1 would still prove client-1.
	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("after the client's reload: server %v, client %v", r.serverErr, r.clientErr)
	}
	if r.server.PeerCertificates[0].Subject.CommonName != "client-2" {
		t.Fatalf("after the client's reload the server saw %q (resumed %v)",
			r.server.PeerCertificates[0].Subject.CommonName, r.server.DidResume)
	}
}

// TestTicketFromBeforeAClientReloadIsDropped: two handshakes straddle a
// reload of the client tunnel's certificate, and the one begun under
// client-1 takes in its ticket (crypto/tls stores it when the connection
// next reads) after the one under client-2 began. Stored, that ticket would
// let the next connection resume as client-1.
func TestTicketFromBeforeAClientReloadIsDropped(t *testing.T) {
	p := newFilePair(t, "client-1")
	ln, ctx, stop := boundedListener(t)
	defer stop()
	served := make(chan error, 1)
	go func() { _, err := serveOnce(ctx, ln, p.srv); served <- err }()
	d := tls.Dialer{Config: ForHandshake(p.cli)}
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := <-served; err != nil { // its ticket and "ok" wait unread
		t.Fatal(err)
	}

	p.replaceClient(t, "client-2")
	testwait.Until(t, reloadWait, "the client tunnel holding its new certificate", func() bool {
		c, err := p.cli.GetClientCertificate(nil)
		return err == nil && c.Leaf.Subject.CommonName == "client-2"
	})
	if r := handshake(t, p.srv, p.cli); !r.ok() || r.server.PeerCertificates[0].Subject.CommonName != "client-2" {
		t.Fatalf("after the reload: server %v, client %v, state %+v", r.serverErr, r.clientErr, r.server)
	}
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	if _, err := io.ReadFull(c, make([]byte, 2)); err != nil { // takes in client-1's ticket now
		t.Fatal(err)
	}

	r := handshake(t, p.srv, p.cli)
	if !r.ok() {
		t.Fatalf("next: server %v, client %v", r.serverErr, r.clientErr)
	}
	if cn := r.server.PeerCertificates[0].Subject.CommonName; cn != "client-2" || !r.server.DidResume {
		t.Fatalf("next connection: the server saw %q, resumed %v; want client-2 on client-2's session", cn, r.server.DidResume)
	}
}

// TestSelfSignedServerResumes: a self-signed server that verifies client
// certificates resumes sessions (its certificate is static, so the guard
// against a replaced certificate must not decline every session).
func TestSelfSignedServerResumes(t *testing.T) {
	m := NewManager(Options{StateDir: t.TempDir()})
	t.Cleanup(m.Close)
	ca := newTestCA(t, "clients")
	srv, err := m.ServerTLSConfig(&config.Tunnel{Name: "ss", Mode: config.ModeServer,
		TLS: &config.TLS{SelfSigned: true, CA: ca.file, ClientAuth: "require"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, key := ca.issueFiles(t, "client", clientSpec("client"))
	own, err := presentedCertificate(srv)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := m.ClientTLSConfig(tunnel(config.ModeClient, &config.TLS{Cert: cert, Key: key,
		Pin: []string{Fingerprint(own.Certificate[0])}}), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if r := handshake(t, srv, cli); !r.ok() {
		t.Fatalf("first: server %v, client %v", r.serverErr, r.clientErr)
	}
	if r := handshake(t, srv, cli); !r.ok() || !r.server.DidResume {
		t.Fatalf("second: ok %v resumed %v", r.ok(), r.server.DidResume)
	}
}

// filePair is a server tunnel and a client tunnel of one manager that
// reloads on file events, each with certificate files of a test CA that
// the test may replace.
type filePair struct {
	ca                               testCA
	srv, cli                         *tls.Config
	srvCert, srvKey, cliCert, cliKey string
}

func newFilePair(t *testing.T, client string) *filePair {
	t.Helper()
	m, _ := reloadManager(t, time.Hour, true)
	p := &filePair{ca: newTestCA(t, "pair CA")}
	p.srvCert, p.srvKey = p.ca.issueFiles(t, "server", serverSpec())
	p.cliCert, p.cliKey = p.ca.issueFiles(t, "client", clientSpec(client))
	var err error
	if p.srv, err = m.ServerTLSConfig(serverTunnel(p.srvCert, p.srvKey, p.ca.file)); err != nil {
		t.Fatal(err)
	}
	cliTLS := &config.TLS{CA: p.ca.file, Cert: p.cliCert, Key: p.cliKey}
	if p.cli, err = m.ClientTLSConfig(tunnel(config.ModeClient, cliTLS), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	return p
}

// replaceServer renames a new server certificate and key over the files,
// key first, as a tool that writes both does.
func (p *filePair) replaceServer(t *testing.T) pemPair {
	t.Helper()
	return p.replace(t, p.srvCert, p.srvKey, serverSpec())
}

// replaceClient does the same for the client, with a new common name.
func (p *filePair) replaceClient(t *testing.T, cn string) {
	t.Helper()
	p.replace(t, p.cliCert, p.cliKey, clientSpec(cn))
}

func (p *filePair) replace(t *testing.T, certFile, keyFile string, spec pkitest.LeafSpec) pemPair {
	t.Helper()
	next := p.ca.issuePEM(t, spec)
	testfs.RenameOver(t, keyFile, next.key)
	testfs.RenameOver(t, certFile, next.cert)
	return next
}
