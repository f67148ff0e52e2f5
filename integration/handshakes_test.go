package integration

import (
	"bufio"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// TestPerSourceHandshakesSlowloris: one address opens 64 sockets and says
// nothing. They hold their slots (handshake_timeout is a minute here), but
// the 65th from that address is closed at once, before any TLS, with
// per_source_handshakes at its default of 64, and counted in the refused
// metric; a real TLS client from another address is served meanwhile.
func TestPerSourceHandshakesSlowloris(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	tn := f.serverTun("slowloris", "127.0.0.1:0", be.addr)
	tn.limits = `    handshake_timeout = "60s"`
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configText(tn), nil)
	addr := pt.listenAddr(t, "slowloris")
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	const active = `passtunnel_connections_active{tunnel="slowloris"}`

	for range 64 {
		dialFrom(t, "127.0.0.1", addr)
	}
	admin.waitMetric(t, active, 64, ioTimeout)

	extra := dialFrom(t, "127.0.0.1", addr)
	if took := expectClosed(t, extra, 10*time.Second); took > 3*time.Second {
		t.Errorf("the 65th connection closed after %v, want at once", took)
	}
	admin.waitMetric(t, `passtunnel_connections_refused_total{reason="per_source_handshakes",tunnel="slowloris"}`,
		1, ioTimeout)
	pt.mustLog(t, ioTimeout, "refusal per_source_handshakes from 127.0.0.1", func(e logEntry) bool {
		return logMatch("connection refused", "tunnel", "slowloris", "reason", "per_source_handshakes")(e) &&
			net.ParseIP(hostOf(e.str("peer"))).Equal(net.IPv4(127, 0, 0, 1))
	})

	c := tls.Client(dialFrom(t, "127.0.0.2", addr), f.clientTLS(f.client))
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if err := c.Handshake(); err != nil {
		t.Fatalf("TLS client from 127.0.0.2: %v", err)
	}
	roundTrip(t, c, bufio.NewReader(c), "served meanwhile", "served meanwhile")

	m := admin.metrics(t)
	if m[active] != 65 {
		t.Errorf("%s = %v, want the 64 silent sockets and the client", active, m[active])
	}
	if e, ok := pt.waitLog(0, logMatch("handshake failed", "tunnel", "slowloris")); ok {
		t.Errorf("a handshake ended meanwhile: %v", e)
	}
}
