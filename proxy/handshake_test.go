package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// proofError is how pki's shared-secret mismatch looks to proxy.
type proofError struct{}

func (proofError) Error() string           { return "proof does not match" }
func (proofError) HandshakeReason() string { return "shared_secret" }

// expectToken is an AfterHandshake step that reads a 4-byte token from the
// peer, like the shared-secret proof does.
func expectToken(want string) func(*tls.Conn, *x509.Certificate) error {
	return func(tc *tls.Conn, _ *x509.Certificate) error {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(tc, got); err != nil {
			return err
		}
		if string(got) != want {
			return proofError{}
		}
		return nil
	}
}

func countingEcho(n *atomic.Int64) func(net.Conn) {
	return func(c net.Conn) { n.Add(1); echo(c) }
}

func TestAfterHandshakeServer(t *testing.T) {
	p := pkitest.NewPKI(t)
	var dials atomic.Int64
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, countingEcho(&dials))
	tun, logs := startTunnel(t, Options{Mode: "server", Target: be.addr(), Limits: testLimits(),
		TLS: p.ServerTLS(t), AfterHandshake: expectToken("open")})

	// The step's bytes are consumed before the pump: only what follows
	// reaches the target.
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	if _, err := c.Write([]byte("open")); err != nil {
		t.Fatal(err)
	}
	expectEcho(t, c, "after the proof")

	bad := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	if _, err := bad.Write([]byte("nope")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, bad)
	logs.waitLine(t, "handshake failed", "reason=shared_secret", "proof does not match")
	if n := tun.Stats().HandshakeFailures["shared_secret"]; n != 1 {
		t.Errorf("HandshakeFailures[shared_secret] = %d, want 1", n)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("target dialed %d times, want 1: a refused peer must not reach it", n)
	}
}

// A peer that completes TLS and then sends nothing is bounded by
// handshake_timeout, like one that stalls the handshake itself.
func TestAfterHandshakeDeadline(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	l := testLimits()
	l.HandshakeTimeout = 300 * time.Millisecond
	tun, _ := startTunnel(t, Options{Mode: "server", Target: be.addr(), Limits: l,
		TLS: p.ServerTLS(t), AfterHandshake: expectToken("open")})
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	if took := expectClosed(t, c); took > waitLimit/2 {
		t.Errorf("closed after %v", took)
	}
	eventually(t, func() bool { return tun.Stats().HandshakeFailures["timeout"] == 1 }, "a timeout counted: %v", tun.Stats())
}

func TestAfterHandshakeClient(t *testing.T) {
	p := pkitest.NewPKI(t)
	srvTLS := p.ServerTLS(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", srvTLS, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(waitLimit))
		_, _ = c.Write([]byte("nope")) // the target's "proof"
		_, _ = io.Copy(io.Discard, c)
	})
	tun, logs := startTunnel(t, Options{Mode: "client", Target: be.addr(), Limits: testLimits(),
		TLS: p.ClientTLS(t), AfterHandshake: expectToken("open")})
	c := dialPlain(t, tun.Addr())
	expectClosed(t, c)
	logs.waitLine(t, "handshake failed", "reason=shared_secret")
	if n := tun.Stats().HandshakeFailures["shared_secret"]; n != 1 {
		t.Errorf("HandshakeFailures[shared_secret] = %d, want 1", n)
	}
}

func TestHandshakeReason(t *testing.T) {
	wrapped := errors.Join(errors.New("context"), proofError{})
	if r := handshakeReason(wrapped); r != "shared_secret" {
		t.Errorf("reason %q, want the error's own", r)
	}
	if r := handshakeReason(io.EOF); r != hsEOF {
		t.Errorf("reason %q, want %q", r, hsEOF)
	}
}

// answeredByHandshake is how the daemon's ACME verdict looks to proxy.
type answeredByHandshake struct{}

func (answeredByHandshake) Error() string           { return "answered by the handshake" }
func (answeredByHandshake) HandshakeReason() string { return "answered_test" }
func (answeredByHandshake) Answered() bool          { return true }

// A verdict that answers the connection closes it after its handshake with
// the verdict's reason: no handshake failure, no AfterHandshake, no dial;
// its handshake is timed like any that succeeded.
func TestVerdictAnswers(t *testing.T) {
	p := pkitest.NewPKI(t)
	var dials atomic.Int64
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, countingEcho(&dials))
	srv := p.ServerTLS(t)
	srv.NextProtos = []string{"answer/1", "echo/1"}
	var steps atomic.Int64
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: testLimits(), TLS: srv,
		Peer: func(cs tls.ConnectionState) (*x509.Certificate, error) {
			if cs.NegotiatedProtocol == "answer/1" {
				return nil, answeredByHandshake{}
			}
			return verifiedByTLS(cs)
		},
		AfterHandshake: func(*tls.Conn, *x509.Certificate) error { steps.Add(1); return nil },
	})
	cli := p.ClientTLS(t)
	cli.NextProtos = []string{"answer/1"}
	expectClosed(t, dialTLS(t, tun.Addr(), cli))
	logs.waitLine(t, "connection closed", "reason=answered_test")
	st := tun.Stats()
	if len(st.HandshakeFailures) != 0 || st.Handshakes.Count != 1 {
		t.Errorf("failures %v, %d handshakes timed: want none and 1", st.HandshakeFailures, st.Handshakes.Count)
	}
	if dials.Load() != 0 || steps.Load() != 0 {
		t.Errorf("%d dials, %d AfterHandshake steps after an answered handshake, want none", dials.Load(), steps.Load())
	}

	cli.NextProtos = []string{"echo/1"}
	expectEcho(t, dialTLS(t, tun.Addr(), cli), "carried on")
}
