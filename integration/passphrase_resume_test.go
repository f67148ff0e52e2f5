package integration

import (
	"bufio"
	"crypto/tls"
	"testing"
)

// TestPassphraseResumption: session tickets are derived from the cluster
// seed, so a session one node issued resumes on another node of the same
// passphrase.
func TestPassphraseResumption(t *testing.T) {
	passphraseTest(t)
	_, pf := passFile(t)
	be := startEcho(t)
	const node = "it-node" // both servers: the name a Go client can verify
	env := []string{"PASSTUNNEL_NODE_NAME=" + node}
	x := startPassRun(t, env, ptun{name: "x", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf})
	y := startPassRun(t, env, ptun{name: "y", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf})
	id := pkiIssue(t, pf, "it-resume")
	xaddr, yaddr := x.listenAddr(t, "x"), y.listenAddr(t, "y")

	t.Run("go client X then Y", func(t *testing.T) {
		cfg := &tls.Config{
			Certificates:       []tls.Certificate{id.pair(t)},
			RootCAs:            id.roots(t),
			ServerName:         node + ".passtunnel.passtunnel.internal", // SAN <node>.<cluster>.passtunnel.internal
			MinVersion:         tls.VersionTLS13,
			MaxVersion:         tls.VersionTLS13,
			ClientSessionCache: tls.NewLRUClientSessionCache(8),
		}
		c := dialTLS(t, xaddr, cfg)
		if c.ConnectionState().DidResume {
			t.Fatal("first connection resumed: nothing to resume yet")
		}
		roundTrip(t, c, bufio.NewReader(c), "to X", "to X") // reads the session ticket too
		c.Close()

		c = dialTLS(t, yaddr, cfg)
		if !c.ConnectionState().DidResume {
			t.Fatal("a session from X did not resume on Y (same passphrase and cluster)")
		}
		roundTrip(t, c, bufio.NewReader(c), "to Y, resumed", "to Y, resumed")
		c.Close()
	})

	// passtunnel logs nothing about resumption, so a relay between the
	// client tunnel and the servers reads it from the wire: in TLS 1.3 a
	// resumed handshake has a pre_shared_key in the ServerHello.
	t.Run("client tunnel X then Y", func(t *testing.T) {
		relay := startTLSRelay(t)
		relay.setTarget(xaddr)
		cli := startPassRun(t, nil, ptun{name: "c", mode: "client", listen: "127.0.0.1:0", target: relay.addr, passphrase: pf})
		caddr := cli.listenAddr(t, "c")
		echoOnce(t, caddr, "via the client tunnel to X")
		relay.setTarget(yaddr)
		echoOnce(t, caddr, "via the client tunnel to Y")

		conns := relay.connections()
		if len(conns) != 2 {
			t.Fatalf("relay saw %d connections, want 2", len(conns))
		}
		for i, want := range []bool{false, true} {
			offered, accepted, ok := conns[i].hellos()
			if !ok {
				t.Fatalf("connection %d (to %s): no ClientHello and ServerHello on the wire", i+1, conns[i].target)
			}
			if accepted != want {
				t.Errorf("connection %d (to %s): resumed %v, want %v (ClientHello offered a session: %v)",
					i+1, conns[i].target, accepted, want, offered)
			}
		}
	})
}
