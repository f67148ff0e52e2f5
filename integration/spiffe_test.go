package integration

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/spiffetest"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// spiffeBlock is a tunnel whose identity and trust come from the Workload
// API at addr, with extra lines.
func spiffeBlock(name, mode, listen, target, addr, extra string) string {
	return fmt.Sprintf("tunnel %q {\n  mode = %q\n  listen = %q\n  target = %q\n  spiffe { socket = %q }\n%s}\n",
		name, mode, listen, target, addr, extra)
}

// TestSPIFFEWorkloadAPI runs two daemons whose tunnels take their identity
// from SPIFFE Workload APIs (a test server speaking the real gRPC
// protocol): the client's SVID gets through the server's allow { uri },
// another workload of the trust domain does not, and when the agents
// rotate both SVIDs while connections keep coming, none fails and new
// handshakes present the new certificates.
func TestSPIFFEWorkloadAPI(t *testing.T) {
	ca := newAuthority(t, "example.org")
	svid := func(path string) spiffetest.SVID { return spiffetest.NewSVID(t, ca, "spiffe://example.org/"+path) }
	serverAgent, clientAgent, intruderAgent := spiffetest.Start(t), spiffetest.Start(t), spiffetest.Start(t)
	serverSVID, clientSVID := svid("server"), svid("client")
	serverAgent.Push(t, serverSVID, ca.Cert)
	clientAgent.Push(t, clientSVID, ca.Cert)
	intruderAgent.Push(t, svid("intruder"), ca.Cert)

	be := startEcho(t)
	srv := runText(t, configBlocks(spiffeBlock("mesh", "server", "127.0.0.1:0", be.addr, serverAgent.Addr,
		"  allow { uri = [\"spiffe://example.org/client\"] }\n")), nil)
	srvAddr := srv.listenAddr(t, "mesh")
	// probe is a SPIFFE server in the test: it shows which SVID the
	// client tunnel presents.
	probe, presented := startSPIFFEProbe(t, ca, svid("probe"))
	cli := runText(t, configBlocks(
		spiffeBlock("mesh", "client", "127.0.0.1:0", srvAddr, clientAgent.Addr, ""),
		spiffeBlock("intruder", "client", "127.0.0.1:0", srvAddr, intruderAgent.Addr, ""),
		spiffeBlock("probe", "client", "127.0.0.1:0", probe, clientAgent.Addr, ""),
	), nil)
	meshAddr, intruderAddr, probeAddr := cli.listenAddr(t, "mesh"), cli.listenAddr(t, "intruder"), cli.listenAddr(t, "probe")

	echoOnce(t, meshAddr, "through SPIFFE")
	expectRefusedDial(t, intruderAddr, "", ioTimeout)
	e := srv.mustLog(t, ioTimeout, "handshake failed (intruder)", logMatch("handshake failed", "tunnel", "mesh"))
	wantError(t, e, `URI=["spiffe://example.org/intruder"]`, "is not allowed by allow { }")

	// Connections keep coming through the mesh while both agents rotate.
	ok, failed, stop := connectLoop(t, meshAddr)
	testwait.Until(t, ioTimeout, "connections before the rotation", func() bool { return ok.Load() >= 20 })
	newServer, newClient := svid("server"), svid("client")
	serverAgent.Push(t, newServer, ca.Cert)
	clientAgent.Push(t, newClient, ca.Cert)
	serial := func(c tls.Certificate) string { return c.Leaf.SerialNumber.Text(16) }
	srv.mustLog(t, ioTimeout, "server's SVID rotated", logMatch("SPIFFE SVID received", "serial", serial(newServer.Cert)))
	cli.mustLog(t, ioTimeout, "client's SVID rotated", logMatch("SPIFFE SVID received", "serial", serial(newClient.Cert)))

	// New handshakes present the new SVIDs: the server's to a Go client
	// (a full handshake: no session to resume), the client tunnel's to the probe.
	direct := &tls.Config{Certificates: []tls.Certificate{newClient.Cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	c := dialTLS(t, srvAddr, direct)
	if got := c.ConnectionState().PeerCertificates[0]; !got.Equal(newServer.Cert.Leaf) {
		t.Errorf("after the rotation the server tunnel presents serial %x, want the new %s", got.SerialNumber, serial(newServer.Cert))
	}
	c.Close()
	echoOnce(t, probeAddr, "probe")
	select {
	case got := <-presented:
		if !got.Equal(newClient.Cert.Leaf) {
			t.Errorf("after the rotation the client tunnel presents serial %x, want the new %s", got.SerialNumber, serial(newClient.Cert))
		}
	case <-time.After(ioTimeout):
		t.Fatal("the probe saw no handshake")
	}

	before := ok.Load()
	testwait.Until(t, ioTimeout, "connections after the rotation", func() bool { return ok.Load() >= before+20 })
	stop()
	t.Logf("%d connections across the rotation, %d failed", ok.Load()+failed.Load(), failed.Load())
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d connections failed across the rotation", n, n+ok.Load())
	}
	if serverAgent.Refused.Load()+clientAgent.Refused.Load() != 0 {
		t.Error("the daemon's Workload API requests lacked the security header")
	}
}

// connectLoop opens one connection after another through addr, each
// carrying a line there and back, until stop; it counts successes and
// failures (each failure also fails t).
func connectLoop(t *testing.T, addr string) (ok, failed *atomic.Int64, stop func()) {
	ok, failed = new(atomic.Int64), new(atomic.Int64)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			if err := echoLine(addr, fmt.Sprintf("line %d", i)); err != nil {
				failed.Add(1)
				t.Errorf("connection %d: %v", i, err)
				continue
			}
			ok.Add(1)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop) // a test that fails half-way stops the loop too
	return ok, failed, stop
}

// echoLine is echoOnce without a testing.T, for a goroutine: one fresh
// connection, one line there and back.
func echoLine(addr, line string) error {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read: %w (got %q)", err, got)
	}
	if got != line+"\n" {
		return fmt.Errorf("echo %q, want %q", got, line)
	}
	return nil
}

// startSPIFFEProbe is a TLS server presenting own that requires a client
// certificate of ca and reports each one on the returned channel (the
// latest only: a full channel drops the older), then echoes.
func startSPIFFEProbe(t *testing.T, ca *pkitest.Authority, own spiffetest.SVID) (string, <-chan *x509.Certificate) {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	seen := make(chan *x509.Certificate, 1)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{own.Cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no client certificate")
			}
			select {
			case <-seen:
			default:
			}
			seen <- cs.PeerCertificates[0]
			return nil
		},
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	serveBackend(t, ln, echo)
	return ln.Addr().String(), seen
}
