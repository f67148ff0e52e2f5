package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// The storm of TestHandshakeStorm. Its server's handshakes are made
// expensive with an RSA 4096 key (a signature is about 6 ms of one CPU,
// against 0.05 ms for P-256), so that stormClients of them are seconds of
// CPU; both tunnels run with GOMAXPROCS=2, so that the storm lasts as long
// on a machine of many cores. Its clients come through a client tunnel, a
// process of its own, so that the test process (built with -race) does
// little but open sockets.
const (
	stormClients = 600
	stormProbes  = 8
	// probeStagger spaces the probes' second flights, so that they reach
	// the server at eight moments of the storm's first second.
	probeStagger = 125 * time.Millisecond
	// stormProbeShare bounds how long after its second flight a probe may
	// wait for its reply, as a share of the storm's duration (a fifth): a
	// ratio, because both scale with the speed of the machine and its load.
	stormProbeShare = 5
)

// TestHandshakeStorm: handshakes under way finish while a storm of new
// ones computes, and the storm completes.
//
// Eight probe clients start their handshakes first. A storm of 600 full
// handshakes follows, through a client tunnel; once the server has all
// its ClientHellos, the probes send their second flight (certificate,
// Finished), one every probeStagger. The server's answer to that flight
// (verifying the client's certificate) is cheap, but without
// max_handshakes it waits behind the storm's handshakes computing on the
// server's CPUs: a probe has its reply when much of the storm is done.
// With max_handshakes the probes go before the handshakes accepted after
// them and have it within a small share of the storm's duration. All 600
// storm connections complete either way, well within handshake_timeout.
//
// A storm alone cannot tell the two apart by its failures: the gate
// reorders the same CPU work, so the last handshake of a storm that
// arrives at once ends when it would have without the gate; what changes
// is that the ones accepted first end first, instead of all at the end.
//
// Measured on this project's two cores, shared with other work (load
// average 6-9), six runs each: the storm took 4.7-5.8 s with the gate and
// 4.0-5.1 s without (the code before it). The slowest probe had its reply
// 3-6% of the storm after its second flight with the default
// max_handshakes (4 slots here: 170-336 ms), and 39-83% of it without
// (1.6-4.0 s; a sixth run without failed the precondition, its server
// having kept up with a storm the client tunnel was slow to send). The
// bound, a fifth of the storm, sits over three times above the one and
// half the other.
func TestHandshakeStorm(t *testing.T) {
	t.Parallel()
	st := startStorm(t)
	probes := startProbes(t, st.srvAddr, st.probeTLS)
	start := time.Now()
	storm := startStormClients(st.cliAddr, stormClients)
	waited := watchWaiting(st.admin, `passtunnel_handshakes_waiting{tunnel="storm"}`, storm.done)
	// Every storm handshake is the server's to compute: its ClientHello
	// sent, its connection accepted (none left in the listener's queue).
	testwait.Until(t, ioTimeout, "the storm's ClientHellos passed on to the server, and accepted", func() bool {
		n, ok := acceptQueue(st.srvAddr)
		return st.relay.hellos.Load() == stormClients && (n == 0 || !ok)
	})
	// The server is the bottleneck: most of the storm is still to compute
	// (else the probes would test nothing).
	backlog := st.relay.hellos.Load() - st.relay.answered.Load()
	if backlog < stormClients/2 {
		t.Fatalf("only %d of the storm's %d handshakes left to compute when the probes began: "+
			"the server kept up with the storm, nothing was tested", backlog, stormClients)
	}
	took := probes.release()
	failed := storm.wait()
	stormTook := time.Since(start)
	most := <-waited
	t.Logf("storm of %d through the client tunnel: %v, half of it answered by %v; %d handshakes to compute when "+
		"the probes began; probes answered %v after their second flight; at most %v handshakes waited",
		stormClients, stormTook.Round(time.Millisecond), storm.median(), backlog, took, most)

	bound := stormTook / stormProbeShare
	for i, d := range took {
		if d < 0 || d > bound {
			t.Errorf("probe %d: reply %v after its second flight (-1: none), want within %v (a fifth of the storm): "+
				"the storm held up a handshake under way", i, d, bound.Round(time.Millisecond))
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d storm connections failed: %v", sum(failed), stormClients, failed)
	}
	if most == 0 {
		t.Error("passtunnel_handshakes_waiting never showed a handshake waiting during the storm")
	}
	for _, e := range st.srv.logs(logMatch("handshake failed")) {
		t.Errorf("server: %v", e)
	}
}

// stormSetup is the storm's server tunnel (RSA 4096 key, an admin
// endpoint) to an echo backend, and a client tunnel to it through a
// helloRelay; both run with GOMAXPROCS=2.
type stormSetup struct {
	srv              *proc
	srvAddr, cliAddr string
	relay            *helloRelay
	admin            adminClient
	probeTLS         *tls.Config // a client of the server tunnel
}

func startStorm(t *testing.T) *stormSetup {
	t.Helper()
	dir := t.TempDir()
	a := newAuthority(t, "passtunnel-it storm CA")
	ca := writeFile(t, dir, "ca.pem", a.CertPEM())
	server := issue(t, a, dir, "server", pkitest.LeafSpec{CommonName: "localhost", DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true, RSABits: 4096})
	client := issue(t, a, dir, "client", pkitest.LeafSpec{CommonName: "storm-client", Client: true})
	pool := x509.NewCertPool()
	pool.AddCert(a.Cert)
	twoCPUs := []string{"GOMAXPROCS=2"}

	be := startEcho(t)
	st := &stormSetup{probeTLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{client.tls},
		ServerName: "localhost", MinVersion: tls.VersionTLS13}}
	st.srv = runText(t, "admin = \"127.0.0.1:0\"\n"+configBlocks(fmt.Sprintf(`tunnel "storm" {
  mode   = "server"
  listen = "127.0.0.1:0"
  target = %q
  tls {
    cert = %q
    key  = %q
    ca   = %q
  }
  limits {
    handshake_timeout     = "15s"
    per_source_handshakes = 0
    max_handshakes        = 4   # the mechanism, at a bound this storm is far past
  }
}
`, be.addr, server.cert, server.key, ca)), twoCPUs)
	st.srvAddr = st.srv.listenAddr(t, "storm")
	st.admin = newAdminClient(t, st.srv.adminAddr(t, 0))
	st.relay = startHelloRelay(t, st.srvAddr)
	cli := runText(t, configBlocks(fmt.Sprintf(`tunnel "storm-client" {
  mode   = "client"
  listen = "127.0.0.1:0"
  target = %q
  tls {
    cert = %q
    key  = %q
    ca   = %q
    server_name        = "localhost"
    session_resumption = false
  }
  limits {
    handshake_timeout = "15s"
  }
}
`, st.relay.addr, client.cert, client.key, ca)), twoCPUs)
	st.cliAddr = cli.listenAddr(t, "storm-client")
	return st
}
