package integration

import (
	"crypto/tls"
	"math"
	"net"
	"sync"
	"testing"
	"time"
)

// tryTLS runs a TLS handshake on every connection at once and counts the
// ones that succeed; the others were closed by passtunnel.
func tryTLS(conns []net.Conn, cfg *tls.Config) (served int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, raw := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := tls.Client(raw, cfg)
			_ = c.SetDeadline(time.Now().Add(ioTimeout))
			if c.Handshake() == nil {
				mu.Lock()
				served++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return served
}

// TestAcceptRate: 200 connections at once against accept_rate = 20. The
// burst of 20 and what the rate refills meanwhile are served; the rest are
// closed at accept, before any TLS, so no handshake fails.
func TestAcceptRate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	rated := f.serverTun("rated", "127.0.0.1:0", be.addr)
	rated.limits = `    accept_rate = 20`
	pt := startRun(t, rated)
	addr := pt.listenAddr(t, "rated")

	const n = 200
	start := time.Now()
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial(t, addr)
	}
	served := tryTLS(conns, f.clientTLS(f.client))
	// Every accept decision was made by now: each connection was either
	// closed at accept or served after it.
	elapsed := time.Since(start)
	maxServed := 20 + int(math.Ceil(20*elapsed.Seconds())) + 1
	t.Logf("%d of %d served in %v", served, n, elapsed)
	if served < 20 || served > maxServed {
		t.Errorf("%d served in %v, want 20..%d", served, elapsed, maxServed)
	}
	pt.mustLog(t, ioTimeout, "refusal accept_rate",
		logMatch("connection refused", "tunnel", "rated", "reason", "accept_rate"))
	if e, ok := pt.waitLog(0, logMatch("handshake failed", "tunnel", "rated")); ok {
		t.Errorf("a refused connection reached TLS: %v", e)
	}
}

// TestPerSourceRate: a noisy source (127.0.0.2) uses up its burst; a quiet
// one (127.0.0.1) is still served.
func TestPerSourceRate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	limited := f.serverTun("persrc", "127.0.0.1:0", be.addr)
	limited.limits = `    per_source_rate = 0.05` // burst 1, one more every 20s
	pt := startRun(t, limited)
	addr := pt.listenAddr(t, "persrc")

	start := time.Now()
	noisy := make([]net.Conn, 5)
	for i := range noisy {
		noisy[i] = dialFrom(t, "127.0.0.2", addr)
	}
	served := tryTLS(noisy, f.clientTLS(f.client))
	if limit := 1 + int(time.Since(start)/(20*time.Second)); served < 1 || served > limit {
		t.Errorf("noisy source: %d of 5 served, want 1..%d", served, limit)
	}
	pt.mustLog(t, ioTimeout, "refusal per_source_rate from 127.0.0.2", func(e logEntry) bool {
		return logMatch("connection refused", "tunnel", "persrc", "reason", "per_source_rate")(e) &&
			net.ParseIP(hostOf(e.str("peer"))).Equal(net.IPv4(127, 0, 0, 2))
	})
	if quiet := tryTLS([]net.Conn{dialFrom(t, "127.0.0.1", addr)}, f.clientTLS(f.client)); quiet != 1 {
		t.Error("the quiet source was refused")
	}
}

// dialFrom connects from the local address ip; 127.0.0.2 is loopback on
// Linux only, elsewhere the test is skipped.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: ioTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		skipOrFail(t, "cannot connect from %s: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func hostOf(hostport string) string {
	h, _, _ := net.SplitHostPort(hostport)
	return h
}
