package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// clientTunnel is a client-mode tunnel in front of a TLS echo backend.
func clientTunnel(t *testing.T, limits Limits) (*Tunnel, *logBuf) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	return startTunnel(t, Options{Mode: ModeClient, Target: be.addr(),
		Limits: limits, TLS: p.ClientTLS(t)})
}

func TestMaxConnections(t *testing.T) {
	limits := testLimits()
	limits.MaxConnections = 2
	tun, logs := clientTunnel(t, limits)

	c1, c2 := dialPlain(t, tun.Addr()), dialPlain(t, tun.Addr())
	expectEcho(t, c1, "one")
	expectEcho(t, c2, "two")

	c3 := dialPlain(t, tun.Addr())
	if d := expectClosed(t, c3); d > waitLimit/2 {
		t.Errorf("refused connection took %v to close", d)
	}
	logs.waitLine(t, "level=WARN", "connection refused", "reason=max_connections")
	if got := tun.Stats().Refused["max_connections"]; got != 1 {
		t.Errorf("Refused[max_connections] = %d, want 1", got)
	}
	expectEcho(t, c1, "one still works")
	expectEcho(t, c2, "two still works")

	c1.Close()
	eventually(t, func() bool { return tun.Stats().Active == 1 }, "Active == 1, got %+v", tun.Stats())
	expectEcho(t, dialPlain(t, tun.Addr()), "room again")
	if s := tun.Stats(); s.Accepted != 3 || s.Refused["max_connections"] != 1 {
		t.Errorf("stats %+v", s)
	}
}

// serverTunnel is a server-mode tunnel in front of a cleartext echo backend.
func serverTunnel(t *testing.T, p *pkitest.PKI, limits Limits, conf *tls.Config) (*Tunnel, *logBuf) {
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	if conf == nil {
		conf = p.ServerTLS(t)
	}
	return startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: limits, TLS: conf})
}

func waitHandshakeFailure(t *testing.T, tun *Tunnel, logs *logBuf, reason string) {
	t.Helper()
	logs.waitLine(t, "level=WARN", "handshake failed", "peer=127.0.0.1:", "reason="+reason, "error=")
	eventually(t, func() bool { return tun.Stats().HandshakeFailures[reason] == 1 },
		"HandshakeFailures[%s] == 1, got %v", reason, tun.Stats().HandshakeFailures)
}

func TestHandshakeTimeout(t *testing.T) {
	limits := testLimits()
	limits.HandshakeTimeout = 300 * time.Millisecond
	tun, logs := serverTunnel(t, pkitest.NewPKI(t), limits, nil)

	start := time.Now()
	c := dialPlain(t, tun.Addr()) // connects, never speaks TLS
	expectClosed(t, c)
	if d := time.Since(start); d < limits.HandshakeTimeout {
		t.Errorf("closed after %v, before handshake_timeout", d)
	}
	waitHandshakeFailure(t, tun, logs, "timeout")
	if logs.line("connection closed") != "" {
		t.Error("failed handshake also logged an unthrottled close line")
	}
}

func TestNotTLS(t *testing.T) {
	tun, logs := serverTunnel(t, pkitest.NewPKI(t), testLimits(), nil)
	c := dialPlain(t, tun.Addr())
	fmt.Fprintf(c, "GET / HTTP/1.0\r\n\r\n")
	expectClosed(t, c)
	waitHandshakeFailure(t, tun, logs, "not_tls")
}

func TestHandshakeFailureReasons(t *testing.T) {
	p := pkitest.NewPKI(t)
	other := pkitest.NewPKI(t)
	cases := []struct {
		reason string
		server func(*tls.Config)
		client func(*tls.Config)
	}{
		{reason: "no_client_cert", client: func(c *tls.Config) { c.Certificates = nil }},
		{reason: "unknown_authority", client: func(c *tls.Config) {
			c.Certificates = []tls.Certificate{other.Leaf(t, "stranger", nil)}
		}},
		{reason: "bad_certificate", client: func(c *tls.Config) {
			c.Certificates = []tls.Certificate{p.Leaf(t, "expired", func(x *x509.Certificate) {
				x.NotAfter = time.Now().Add(-time.Minute)
			})}
		}},
		{reason: "protocol_version",
			server: func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 },
			client: func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			sconf := p.ServerTLS(t)
			if tc.server != nil {
				tc.server(sconf)
			}
			tun, logs := serverTunnel(t, p, testLimits(), sconf)
			cconf := p.ClientTLS(t)
			tc.client(cconf)
			c := tls.Client(dialPlain(t, tun.Addr()), cconf)
			c.SetDeadline(time.Now().Add(waitLimit))
			// With TLS 1.3 the client may finish first and learn of the
			// rejection only on its first read.
			if c.Handshake() == nil {
				io.Copy(io.Discard, c)
			}
			waitHandshakeFailure(t, tun, logs, tc.reason)
		})
	}
	t.Run("eof", func(t *testing.T) {
		tun, logs := serverTunnel(t, p, testLimits(), nil)
		dialPlain(t, tun.Addr()).Close()
		waitHandshakeFailure(t, tun, logs, "eof")
	})
}

func TestTargetHandshakeFailure(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	conf := p.ClientTLS(t)
	conf.ServerName = "wrong.example"
	tun, logs := startTunnel(t, Options{Mode: ModeClient, Target: be.addr(),
		Limits: testLimits(), TLS: conf})
	expectReset(t, tun.Addr(), nil) // to the application, an unusable target is a failed one
	logs.waitLine(t, "level=WARN", "handshake failed", "target="+be.addr().Addr, "reason=bad_certificate")
	logs.waitLine(t, "connection closed", "reason=target_handshake_failed", "error=", "reset_peer=true")
	if got := tun.Stats().HandshakeFailures["bad_certificate"]; got != 1 {
		t.Errorf("HandshakeFailures = %v", tun.Stats().HandshakeFailures)
	}
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := addrOf(ln.Addr())
	ln.Close() // nobody listens there now: dials are refused
	p := pkitest.NewPKI(t)
	for _, mode := range []Mode{ModeClient, ModeServer} {
		t.Run(string(mode), func(t *testing.T) {
			conf := p.ClientTLS(t)
			var peerConf *tls.Config // the client of the tunnel: in cleartext in client mode
			if mode == ModeServer {
				conf, peerConf = p.ServerTLS(t), p.ClientTLS(t)
			}
			tun, logs := startTunnel(t, Options{Mode: mode, Target: down, Limits: testLimits(), TLS: conf})
			expectReset(t, tun.Addr(), peerConf)
			logs.waitLine(t, "connection closed", "reason=target_dial_failed", "connection refused", "reset_peer=true")
			if n := tun.Stats().PeerResets["target_dial_failed"]; n != 1 {
				t.Errorf("peer resets counted: %d, want 1", n)
			}
			logs.waitLine(t, "level=WARN", "target connection failed", "target="+down.Addr)
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	limits := testLimits()
	limits.IdleTimeout = 300 * time.Millisecond
	tun, logs := clientTunnel(t, limits)
	c := dialPlain(t, tun.Addr())
	// Taken before the last bytes move, so the tunnel's quiet period
	// cannot have started earlier.
	before := time.Now()
	expectEcho(t, c, "ping")
	expectClosed(t, c)
	if d := time.Since(before); d < limits.IdleTimeout {
		t.Errorf("closed after %v of quiet, before idle_timeout", d)
	}
	logs.waitLine(t, "connection closed", "reason=idle_timeout", "bytes_in=4", "bytes_out=4")
}

// Traffic keeps the connection open well past idle_timeout.
func TestIdleTimeoutResetByTraffic(t *testing.T) {
	limits := testLimits()
	limits.IdleTimeout = time.Second
	tun, logs := clientTunnel(t, limits)
	c := dialPlain(t, tun.Addr())
	start := time.Now()
	for time.Since(start) < 2*limits.IdleTimeout {
		expectEcho(t, c, "keepalive")
		time.Sleep(limits.IdleTimeout / 10)
	}
	expectEcho(t, c, "still open")
	expectClosed(t, c)
	logs.waitLine(t, "connection closed", "reason=idle_timeout")
}

func TestMaxLifetime(t *testing.T) {
	limits := testLimits()
	limits.MaxLifetime = 300 * time.Millisecond
	tun, logs := clientTunnel(t, limits)
	start := time.Now()
	c := dialPlain(t, tun.Addr())
	// Busy traffic does not extend a lifetime.
	c.SetDeadline(time.Now().Add(waitLimit))
	buf := make([]byte, 4)
	var err error
	for err == nil {
		if _, err = c.Write([]byte("busy")); err == nil {
			_, err = io.ReadFull(c, buf)
		}
	}
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("still open after %v", waitLimit)
	}
	if d := time.Since(start); d < limits.MaxLifetime {
		t.Errorf("closed after %v, before max_lifetime", d)
	}
	logs.waitLine(t, "connection closed", "reason=max_lifetime")
}

// TestHandshakeHint: the tunnel's hint goes with failures about
// certificates, and stays off transport failures, where it would mislead.
func TestHandshakeHint(t *testing.T) {
	p := pkitest.NewPKI(t)
	const hint = "compare the passphrase and the cluster"
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: Address{Network: NetTCP, Addr: "127.0.0.1:1"},
		Limits: testLimits(), TLS: p.ServerTLS(t), HandshakeHint: hint})
	cconf := p.ClientTLS(t)
	cconf.Certificates = []tls.Certificate{pkitest.NewPKI(t).Leaf(t, "stranger", nil)}
	c := tls.Client(dialPlain(t, tun.Addr()), cconf)
	c.SetDeadline(time.Now().Add(waitLimit))
	if c.Handshake() == nil {
		io.Copy(io.Discard, c)
	}
	logs.waitLine(t, "handshake failed", "reason=unknown_authority", `hint="`+hint+`"`)
	dialPlain(t, tun.Addr()).Close()
	line := logs.waitLine(t, "handshake failed", "reason=eof")
	if strings.Contains(line, "hint=") {
		t.Errorf("a transport failure carries the hint: %s", line)
	}
}
