package pki

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// gatedConn holds every write after the first (the client's second flight:
// its certificate and Finished) until open is closed, and closes reached
// when one is waiting.
type gatedConn struct {
	net.Conn
	writes  int
	reached chan struct{}
	open    chan struct{}
	once    sync.Once
}

func (g *gatedConn) Write(p []byte) (int, error) {
	if g.writes++; g.writes > 1 {
		g.once.Do(func() { close(g.reached) })
		<-g.open
	}
	return g.Conn.Write(p)
}

// TestReloadMidHandshakeTagsTheOldCertificate: a certificate reload that
// lands after the server chose its certificate but before it wrote the
// session ticket (with client certificates, a round trip later) must not
// let that session resume under the new certificate: the client would see
// the replaced certificate on every resumed connection from then on.
func TestReloadMidHandshakeTagsTheOldCertificate(t *testing.T) {
	p := newFilePair(t, "client")
	srv, cli := p.srv, p.cli
	old, err := LoadKeyPair(p.srvCert, p.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	oldFP := Fingerprint(old.Leaf.Raw)

	ln, ctx, stop := boundedListener(t)
	defer stop()
	done := make(chan error, 1)
	go func() { _, err := serveOnce(ctx, ln, srv); done <- err }()
	raw, err := net.DialTimeout("tcp", ln.Addr().String(), handshakeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(handshakeTimeout))
	gate := &gatedConn{Conn: raw, reached: make(chan struct{}), open: make(chan struct{})}
	c := tls.Client(gate, ForHandshake(cli))
	hs := make(chan error, 1)
	go func() { hs <- c.Handshake() }()
	select {
	case <-gate.reached: // the server has sent its certificate
	case err := <-hs:
		t.Fatalf("handshake ended before the client's second flight: %v", err)
	case <-ctx.Done():
		t.Fatal("the client never got to its second flight")
	}
	newSrv := p.replaceServer(t)
	testwait.Until(t, reloadWait, "the server holding its new certificate", func() bool {
		own, err := presentedCertificate(srv)
		return err == nil && Fingerprint(own.Leaf.Raw) == newSrv.fp
	})
	close(gate.open)
	if err := <-hs; err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 2)); err != nil { // takes in the ticket written before "ok"
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := Fingerprint(c.ConnectionState().PeerCertificates[0].Raw); got != oldFP {
		t.Fatalf("the gated handshake presented %s, want the old certificate %s", got, oldFP)
	}

	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("next handshake: server %v, client %v", r.serverErr, r.clientErr)
	}
	if got := Fingerprint(r.client.PeerCertificates[0].Raw); r.client.DidResume || got != newSrv.fp {
		t.Fatalf("next handshake resumed %v presenting %s; want a full handshake with the new certificate %s",
			r.client.DidResume, got, newSrv.fp)
	}
}
