package proxy

import (
	"crypto/tls"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// A burst of 200 connections against accept_rate = 20: the burst (20) and
// what the rate refills while the burst lasts are served; the rest are
// closed at accept, before any TLS byte, so they fail no handshake.
func TestAcceptRateBurst(t *testing.T) {
	p := pkitest.NewPKI(t)
	tun, logs := serverWith(t, p, 20, 0, ProxyProtocol{})
	const n = 200
	start := time.Now()
	raws := make([]net.Conn, n)
	for i := range raws {
		raws[i] = dialPlain(t, tun.Addr())
	}
	eventually(t, func() bool { s := tun.Stats(); return s.Accepted+s.Refused["accept_rate"] == n },
		"every connection accepted or refused, got %+v", tun.Stats())
	elapsed := time.Since(start)

	// Each connection now tries TLS: the served ones succeed, the refused
	// ones find a socket the tunnel closed without writing a byte.
	conf := p.ClientTLS(t) // made here: t.Fatal must not run in the goroutines
	var mu sync.Mutex
	served, refused := 0, 0
	var wg sync.WaitGroup
	for _, raw := range raws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := tls.Client(raw, conf)
			c.SetDeadline(time.Now().Add(waitLimit))
			err := c.Handshake()
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				served++
			} else {
				refused++
			}
		}()
	}
	wg.Wait()

	s := tun.Stats()
	maxServed := 20 + int(math.Ceil(20*elapsed.Seconds())) + 1
	if served < 20 || served > maxServed {
		t.Errorf("%d served in %v, want 20..%d", served, elapsed, maxServed)
	}
	if uint64(served) != s.Accepted || uint64(refused) != s.Refused["accept_rate"] {
		t.Errorf("clients saw %d served, %d refused; stats %+v", served, refused, s)
	}
	if len(s.HandshakeFailures) != 0 {
		t.Errorf("refused connections reached TLS: handshake failures %v", s.HandshakeFailures)
	}
	logs.waitLine(t, "level=WARN", "connection refused", "reason=accept_rate", "peer=127.0.0.1:")
	t.Logf("%d of %d served in %v", served, n, elapsed)
}

// dialFrom connects to a from the local address ip, skipping the test when
// that address cannot be bound (127.0.0.2 is loopback on Linux only).
func dialFrom(t *testing.T, ip string, a net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: waitLimit, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", a.String())
	if err != nil {
		t.Skipf("cannot connect from %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// per_source_rate keys on the client address: a noisy 127.0.0.2 runs out
// of tokens, a quiet 127.0.0.1 is served.
func TestPerSourceRateIsolates(t *testing.T) {
	p := pkitest.NewPKI(t)
	tun, logs := serverWith(t, p, 0, 0.1, ProxyProtocol{}) // burst 1, one more every 10s
	for range 5 {
		dialFrom(t, "127.0.0.2", tun.Addr())
	}
	eventually(t, func() bool { s := tun.Stats(); return s.Accepted+s.Refused["per_source_rate"] == 5 },
		"5 connections accepted or refused, got %+v", tun.Stats())
	if s := tun.Stats(); s.Accepted != 1 {
		t.Errorf("noisy source: %d served, want the burst of 1", s.Accepted)
	}
	logs.waitLine(t, "connection refused", "reason=per_source_rate", "peer=127.0.0.2:")

	quiet := tls.Client(dialFrom(t, "127.0.0.1", tun.Addr()), p.ClientTLS(t))
	expectEcho(t, quiet, "the quiet source is served")
}

// Behind a trusted balancer, per_source_rate keys on the client address the
// PROXY header gives, not on the balancer.
func TestPerSourceRateBehindBalancer(t *testing.T) {
	p := pkitest.NewPKI(t)
	tun, logs := serverWith(t, p, 0, 0.1, pp("v1", []string{"127.0.0.1/32"}, "none", false))
	other := &net.TCPAddr{IP: net.ParseIP("203.0.113.8").To4(), Port: 4242}

	c := tlsAfterHeader(t, tun.Addr(), headerBytes(t, 1, claimedClient, claimedDst), false, p.ClientTLS(t))
	expectEcho(t, c, "first from 203.0.113.7")
	again := dialPlain(t, tun.Addr())
	if _, err := again.Write(headerBytes(t, 1, claimedClient, claimedDst)); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, again)
	logs.waitLine(t, "connection refused", "reason=per_source_rate", "peer="+claimedClient.String(), "via=127.0.0.1:")
	c2 := tlsAfterHeader(t, tun.Addr(), headerBytes(t, 1, other, claimedDst), false, p.ClientTLS(t))
	expectEcho(t, c2, "another client behind the same balancer")
	if got := tun.Stats().Refused["per_source_rate"]; got != 1 {
		t.Errorf("Refused[per_source_rate] = %d, want 1", got)
	}
}
