package proxy

import (
	"io"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// ppTunnel is a server tunnel with a proxy_protocol block in front of an
// echo backend.
func ppTunnel(t *testing.T, p *pkitest.PKI, name string, hs time.Duration, block ProxyProtocol) (*Tunnel, *logBuf) {
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	limits := testLimits()
	limits.HandshakeTimeout = hs
	return startTunnel(t, Options{Name: name, Mode: ModeServer, Target: be.addr(), Limits: limits,
		TLS: p.ServerTLS(t), ProxyProtocol: block})
}

// sendRaw dials a and writes b, if any.
func sendRaw(t *testing.T, tun *Tunnel, b string) {
	t.Helper()
	c := dialPlain(t, tun.Addr())
	if _, err := io.WriteString(c, b); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)
}

func expectRefused(t *testing.T, tun *Tunnel, logs *logBuf, reason string, n uint64, parts ...string) {
	t.Helper()
	logs.waitLine(t, append([]string{"level=WARN", "connection refused", "reason=" + reason}, parts...)...)
	eventually(t, func() bool { return tun.Stats().Refused[reason] == n },
		"Refused[%s] == %d, got %v", reason, n, tun.Stats().Refused)
	if s := tun.Stats(); len(s.HandshakeFailures) != 0 {
		t.Errorf("refused before TLS, yet handshake failures %v", s.HandshakeFailures)
	}
	if logs.line("connection closed") != "" {
		t.Error("a refused connection also got a connection closed line")
	}
}

// Untrusted senders are refused at accept; trusted ones without a valid
// header (garbage, the wrong version, nothing at all) are refused too,
// at once or at handshake_timeout. A tunnel next to them keeps working.
func TestProxyRefusals(t *testing.T) {
	p := pkitest.NewPKI(t)
	header := string(headerBytes(t, 1, claimedClient, claimedDst))
	long := time.Minute // a refusal seen before waitLimit was not this timeout

	t.Run("untrusted", func(t *testing.T) {
		tun, logs := ppTunnel(t, p, "untrusted", long, pp("any", []string{"192.0.2.0/24"}, "none", false))
		sendRaw(t, tun, header)
		expectRefused(t, tun, logs, "proxy_untrusted", 1, "peer=127.0.0.1:")
		if got := tun.Stats().Accepted; got != 0 {
			t.Errorf("Accepted = %d: an untrusted peer got past accept", got)
		}
	})
	t.Run("garbage and wrong version", func(t *testing.T) {
		tun, logs := ppTunnel(t, p, "strict", long, pp("v2", []string{"127.0.0.1/32"}, "none", false))
		sendRaw(t, tun, "GET / HTTP/1.0\r\n\r\n")
		expectRefused(t, tun, logs, "proxy_header", 1, "no PROXY header")
		sendRaw(t, tun, header)
		expectRefused(t, tun, logs, "proxy_header", 2, `got a v1 PROXY header`)
	})
	t.Run("nothing within handshake_timeout", func(t *testing.T) {
		const hs = 300 * time.Millisecond
		tun, logs := ppTunnel(t, p, "slow", hs, pp("any", []string{"127.0.0.1/32"}, "none", false))
		other, _ := serverTunnel(t, p, testLimits(), nil)
		start := time.Now()
		silent := dialPlain(t, tun.Addr())
		expectEcho(t, dialTLS(t, other.Addr(), p.ClientTLS(t)), "the tunnel next door works")
		expectClosed(t, silent)
		if d := time.Since(start); d < hs {
			t.Errorf("refused after %v, before handshake_timeout %v", d, hs)
		}
		expectRefused(t, tun, logs, "proxy_header", 1, "within handshake_timeout")
	})
}

// The PROXY header and the TLS handshake after it share handshake_timeout:
// a header that took most of it leaves only the rest for TLS, and one that
// took all of it leaves an immediate timeout, not an unbounded wait.
func TestProxyHeaderSharesHandshakeDeadline(t *testing.T) {
	c := &conn{opts: &Options{Limits: Limits{HandshakeTimeout: time.Minute}}}
	if got := c.handshakeTimeout(); got != time.Minute {
		t.Errorf("without a header: %v, want the whole handshake_timeout", got)
	}
	c.hsDeadline = time.Now().Add(time.Second)
	if got := c.handshakeTimeout(); got <= 0 || got > time.Second {
		t.Errorf("a second left: %v", got)
	}
	c.hsDeadline = time.Now().Add(-time.Second)
	if got := c.handshakeTimeout(); got <= 0 || got > time.Millisecond {
		t.Errorf("deadline passed: %v, want a tiny positive timeout (0 would mean none)", got)
	}
}
