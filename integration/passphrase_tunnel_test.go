package integration

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// notSigned is how a passphrase tunnel explains a peer of another
// passphrase or cluster.
const notSigned = "not signed by this cluster's CA"

// refusedPair checks the two "handshake failed" lines of one refused
// connection: each has a hint, one explains the CA mismatch and the other
// reports the peer's alert.
func refusedPair(t *testing.T, client, server logEntry) {
	t.Helper()
	for _, e := range []logEntry{client, server} {
		if e.str("hint") == "" {
			t.Errorf("handshake failed line of a passphrase tunnel without a hint: %v", e)
		}
		if e.str("error") == "" || e.str("reason") == "" {
			t.Errorf("handshake failed line without error or reason: %v", e)
		}
	}
	explains := func(e logEntry) bool { return strings.Contains(e.str("error"), notSigned) }
	alert := func(e logEntry) bool { return strings.Contains(e.str("error"), "remote error") }
	switch {
	case explains(client) && alert(server), explains(server) && alert(client):
	default:
		t.Errorf("want one side to say %q and the other to report the remote alert; client: %q, server: %q",
			notSigned, client.str("error"), server.str("error"))
	}
	for _, e := range []logEntry{client, server} {
		if explains(e) && e.str("reason") != "unknown_authority" {
			t.Errorf("reason %q, want unknown_authority for %q", e.str("reason"), e.str("error"))
		}
	}
}

// refuse sends a line into a client tunnel whose handshake must fail and
// returns the client's "handshake failed" line (the first of that tunnel).
func refuse(t *testing.T, cli *proc, tunnel string) logEntry {
	t.Helper()
	expectRefusedDial(t, cli.listenAddr(t, tunnel), "must not arrive through "+tunnel+"\n", ioTimeout)
	return cli.mustLog(t, ioTimeout, "handshake failed (tunnel "+tunnel+")", logMatch("handshake failed", "tunnel", tunnel))
}

// TestPassphraseHandshake: same passphrase carries traffic; another
// passphrase or another cluster fails the handshake on both sides, each
// logging why.
func TestPassphraseHandshake(t *testing.T) {
	passphraseTest(t)
	_, p := passFile(t)
	_, q := passFile(t)
	be := startEcho(t)
	srv := startPassRun(t, nil, ptun{name: "s", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: p})
	saddr := srv.listenAddr(t, "s")
	cli := startPassRun(t, nil,
		ptun{name: "same", mode: "client", listen: "127.0.0.1:0", target: saddr, passphrase: p},
		ptun{name: "otherpass", mode: "client", listen: "127.0.0.1:0", target: saddr, passphrase: q},
		ptun{name: "othercluster", mode: "client", listen: "127.0.0.1:0", target: saddr, passphrase: p, cluster: "it-other"},
	)

	t.Run("same passphrase", func(t *testing.T) {
		c := dial(t, cli.listenAddr(t, "same"))
		r := bufio.NewReader(c)
		roundTrip(t, c, r, "hello over a passphrase tunnel", "hello over a passphrase tunnel")
		roundTrip(t, c, r, "second line 0123456789", "second line 0123456789")
	})

	serverFailed := logMatch("handshake failed", "tunnel", "s")
	for _, tunnel := range []string{"otherpass", "othercluster"} {
		t.Run(tunnel, func(t *testing.T) {
			before := len(srv.logs(serverFailed))
			ce := refuse(t, cli, tunnel)
			ses := srv.waitLogs(t, ioTimeout, before+1, "handshake failed (tunnel s)", serverFailed)
			if ce.str("target") != saddr {
				t.Errorf("client tunnel: handshake failed target %q, want the target %s", ce.str("target"), saddr)
			}
			refusedPair(t, ce, ses[before])
		})
	}
	closed := srv.waitLogs(t, ioTimeout, 1, "connection closed (tunnel s)", logMatch("connection closed", "tunnel", "s"))
	if len(closed) != 1 {
		t.Errorf("server tunnel: %d connection closed lines, want 1 (the same-passphrase one): %v", len(closed), closed)
	}
}

// TestPassphraseRotation rolls two nodes from P1 to P2 with traffic both
// ways at every step: A{P2, previous P1} and B{P1}; B on P2; A on P2 only,
// which then refuses a node still on P1.
func TestPassphraseRotation(t *testing.T) {
	passphraseTest(t)
	_, p1 := passFile(t)
	_, p2 := passFile(t)
	be := startEcho(t)
	dir := shortTempDir(t)
	// Server tunnels listen on fixed unix paths so that each node's client
	// tunnel can target the other node across restarts.
	aIn, bIn := sock(dir, "a.sock"), sock(dir, "b.sock")
	const drain = "  limits {\n    drain_timeout = \"2s\"\n  }"

	node := func(self, in, other string, pass string, prev ...string) *proc {
		return startPassRun(t, nil,
			ptun{name: self + "-in", mode: "server", listen: in, target: be.addr, passphrase: pass, previous: prev, extra: drain},
			ptun{name: self + "-out", mode: "client", listen: "127.0.0.1:0", target: other, passphrase: pass, previous: prev, extra: drain},
		)
	}
	nodeA := func(pass string, prev ...string) *proc { return node("a", aIn, bIn, pass, prev...) }
	nodeB := func(pass string, prev ...string) *proc { return node("b", bIn, aIn, pass, prev...) }
	stop := func(t *testing.T, p *proc) {
		t.Helper()
		p.signal(t, syscall.SIGTERM)
		if code := p.mustExit(t, 15*time.Second); code != 0 {
			t.Errorf("%s: exit code %d after SIGTERM, want 0", p.label, code)
		}
	}
	both := func(t *testing.T, a, b *proc, step string) {
		t.Helper()
		a.listenAddr(t, "a-in")
		b.listenAddr(t, "b-in")
		echoOnce(t, a.listenAddr(t, "a-out"), step+": A client -> B server")
		echoOnce(t, b.listenAddr(t, "b-out"), step+": B client -> A server")
	}

	a := nodeA(p2, p1)
	b := nodeB(p1)
	if !t.Run("A{P2,prev P1} and B{P1}", func(t *testing.T) { both(t, a, b, "step 1") }) {
		return
	}
	stop(t, b)
	b = nodeB(p2)
	if !t.Run("B restarted on P2", func(t *testing.T) { both(t, a, b, "step 2") }) {
		return
	}
	stop(t, a)
	a = nodeA(p2)
	if !t.Run("A restarted on P2 only", func(t *testing.T) { both(t, a, b, "step 3") }) {
		return
	}
	t.Run("node on P1 refused", func(t *testing.T) {
		old := startPassRun(t, nil, ptun{name: "old-out", mode: "client", listen: "127.0.0.1:0", target: aIn, passphrase: p1})
		ce := refuse(t, old, "old-out")
		se := a.mustLog(t, ioTimeout, "handshake failed (tunnel a-in)", logMatch("handshake failed", "tunnel", "a-in"))
		refusedPair(t, ce, se)
	})
}

// probeServer is a Go TLS server that echoes and records the certificate
// every client presents (no session tickets: every handshake is full).
type probeServer struct {
	*backend
	mu     sync.Mutex
	leaves []*x509.Certificate
}

func startProbeServer(t *testing.T, id issued) *probeServer {
	t.Helper()
	ps := &probeServer{}
	cfg := &tls.Config{
		Certificates:           []tls.Certificate{id.pair(t)},
		ClientAuth:             tls.RequireAnyClientCert,
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				ps.mu.Lock()
				ps.leaves = append(ps.leaves, cs.PeerCertificates[0])
				ps.mu.Unlock()
			}
			return nil
		},
	}
	ps.backend = startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		echo(tc)
	})
	return ps
}

func (ps *probeServer) seen() []*x509.Certificate {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]*x509.Certificate(nil), ps.leaves...)
}

// TestPassphraseShortNodeCerts: with 2 s node certificates a server and a
// client tunnel keep accepting new connections well past the first
// certificate's expiry, because they re-issue in-process.
func TestPassphraseShortNodeCerts(t *testing.T) {
	passphraseTest(t)
	const validity = 2 * time.Second
	_, pf := passFile(t)
	env := []string{"PASSTUNNEL_NODE_CERT_VALIDITY=" + validity.String()}
	be := startEcho(t)
	srv := startPassRun(t, env, ptun{name: "s", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf})
	id := pkiIssue(t, pf, "it-probe")
	probe := startProbeServer(t, id)
	saddr := srv.listenAddr(t, "s")
	cli := startPassRun(t, env,
		ptun{name: "c", mode: "client", listen: "127.0.0.1:0", target: saddr, passphrase: pf},
		ptun{name: "probe", mode: "client", listen: "127.0.0.1:0", target: probe.addr, passphrase: pf})
	caddr, paddr := cli.listenAddr(t, "c"), cli.listenAddr(t, "probe")

	// A direct Go client sees the server tunnel's current certificate.
	roots := id.roots(t)
	verifyNow := func(leaf *x509.Certificate, usage x509.ExtKeyUsage) error {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: time.Now(), KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	direct := &tls.Config{
		Certificates:       []tls.Certificate{id.pair(t)},
		InsecureSkipVerify: true, // names are not checked between nodes; the chain is, below
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyNow(cs.PeerCertificates[0], x509.ExtKeyUsageServerAuth)
		},
	}

	serials := map[string]bool{}
	start := time.Now()
	const runFor = 4500 * time.Millisecond // past the first certificate's expiry, twice over
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Since(start) < runFor; i++ {
		echoOnce(t, caddr, fmt.Sprintf("client tunnel -> server tunnel #%d at %v", i, time.Since(start).Round(time.Millisecond)))
		echoOnce(t, paddr, fmt.Sprintf("client tunnel -> probe #%d", i))

		c := dialTLS(t, saddr, direct)
		leaf := c.ConnectionState().PeerCertificates[0]
		if left := time.Until(leaf.NotAfter); left > validity+time.Second {
			t.Fatalf("server node certificate valid for %v more, want at most %v: PASSTUNNEL_NODE_CERT_VALIDITY not applied", left, validity)
		}
		serials[leaf.SerialNumber.String()] = true
		roundTrip(t, c, bufio.NewReader(c), "direct", "direct")
		c.Close()
		<-tick.C
	}
	if len(serials) < 2 {
		t.Errorf("server tunnel presented %d distinct certificates over %v, want a re-issue", len(serials), runFor)
	}
	clientSerials := map[string]bool{}
	for _, leaf := range probe.seen() {
		clientSerials[leaf.SerialNumber.String()] = true
		if d := leaf.NotAfter.Sub(leaf.NotBefore); d > validity+10*time.Minute {
			t.Errorf("client node certificate spans %v: PASSTUNNEL_NODE_CERT_VALIDITY not applied", d)
		}
	}
	if len(clientSerials) < 2 {
		t.Errorf("client tunnel presented %d distinct certificates over %v, want a re-issue", len(clientSerials), runFor)
	}
	for _, p := range []*proc{srv, cli} {
		if fails := p.logs(logMatch("handshake failed")); len(fails) > 0 {
			t.Errorf("%s: %d handshake failures, first: %v", p.label, len(fails), fails[0])
		}
	}
}
