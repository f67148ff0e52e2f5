package proxy

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// hsKey is the per_source_handshakes key of a loopback address.
func hsKey(ip string) string { return ip + "/32" }

// inHandshake is how many handshakes the tunnel counts for key now.
func inHandshake(tun *Tunnel, k string) int { return tun.handshakes.count(key(k)) }

// waitInHandshake waits until the tunnel counts n handshakes for k.
func waitInHandshake(t *testing.T, tun *Tunnel, k string, n int) {
	t.Helper()
	eventually(t, func() bool { return inHandshake(tun, k) == n },
		"%d handshakes counted for %s, got %d", n, k, inHandshake(tun, k))
}

// waitTableEmpty waits until no source has a handshake counted.
func waitTableEmpty(t *testing.T, tun *Tunnel) {
	t.Helper()
	eventually(t, func() bool { return tun.handshakes.size() == 0 },
		"handshake table empty, got %d sources", tun.handshakes.size())
}

// holdSilent opens n connections from ip that never send a byte, and waits
// until the tunnel counts them all in their handshake.
func holdSilent(t *testing.T, tun *Tunnel, ip string, n int) []net.Conn {
	t.Helper()
	before := inHandshake(tun, hsKey(ip))
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dialFrom(t, ip, tun.Addr())
	}
	waitInHandshake(t, tun, hsKey(ip), before+n)
	return conns
}

// longHandshake are test limits under which no handshake times out while
// a test runs: a connection closed before waitLimit was refused.
func longHandshake() Limits {
	l := testLimits()
	l.HandshakeTimeout = time.Minute
	return l
}

func TestHandshakeTable(t *testing.T) {
	h := newHandshakeTable(2)
	a, b, c := key("192.0.2.1/32"), key("192.0.2.2/32"), key("2001:db8::/64")
	for i, want := range []bool{false, false, true} {
		if _, refused := h.acquire(a, 2); refused != want {
			t.Errorf("acquire %d of a: refused %v, want %v", i+1, refused, want)
		}
	}
	if held, refused := h.acquire(b, 2); !held || refused {
		t.Errorf("b: held %v refused %v, want counted", held, refused)
	}
	// Full: a new source is admitted, uncounted, rather than refused.
	if held, refused := h.acquire(c, 2); held || refused {
		t.Errorf("c in a full table: held %v refused %v, want admitted uncounted", held, refused)
	}
	h.release(a)
	if h.count(a) != 1 {
		t.Errorf("a after one release: %d, want 1", h.count(a))
	}
	h.release(a)
	h.release(b)
	if h.size() != 0 {
		t.Errorf("%d sources left at count 0, want none", h.size())
	}
	if held, _ := h.acquire(c, 2); !held {
		t.Error("c not counted once there was room")
	}
}

// The key is per_source_rate's: an IPv6 /64 is one source, unix peers and
// client tunnels are not counted, and a hold gives its count back once.
func TestHoldHandshakeKeys(t *testing.T) {
	tun := &Tunnel{handshakes: newHandshakeTable(maxSources)}
	o := &Options{Mode: ModeServer, Limits: Limits{PerSourceHandshakes: 1}}
	h1, reason := tun.holdHandshake(o, tcp("2001:db8:1:2::1", 1))
	if reason != "" || h1.table == nil {
		t.Fatalf("first from the /64: %q, held %v", reason, h1.table != nil)
	}
	if _, reason := tun.holdHandshake(o, tcp("2001:db8:1:2:ffff::9", 2)); reason != reasonPerSourceHandshakes {
		t.Errorf("second from the same /64: %q, want refused", reason)
	}
	if h, reason := tun.holdHandshake(o, tcp("2001:db8:1:3::1", 3)); reason != "" || h.table == nil {
		t.Errorf("another /64: %q, want counted", reason)
	}
	if h, reason := tun.holdHandshake(o, &net.UnixAddr{Name: "@", Net: "unix"}); reason != "" || h.table != nil {
		t.Errorf("unix peer: %q, held %v, want neither", reason, h.table != nil)
	}
	client := &Options{Mode: ModeClient, Limits: o.Limits}
	if h, reason := tun.holdHandshake(client, tcp("2001:db8:1:2::1", 4)); reason != "" || h.table != nil {
		t.Errorf("client tunnel: %q, held %v, want neither", reason, h.table != nil)
	}
	h1.release()
	h1.release()
	if n := tun.handshakes.count(key("2001:db8:1:2::/64")); n != 0 {
		t.Errorf("count %d after a double release, want 0", n)
	}
}

// 64 silent connections from one address hold their slots; the 65th from
// it is refused at once, before TLS, while another address is served.
func TestPerSourceHandshakesRefusesTheNext(t *testing.T) {
	p := pkitest.NewPKI(t)
	limits := longHandshake()
	if limits.PerSourceHandshakes != 64 {
		t.Fatalf("default per_source_handshakes %d, want 64", limits.PerSourceHandshakes)
	}
	tun, logs := serverTunnel(t, p, limits, nil)
	holdSilent(t, tun, "127.0.0.1", 64)

	extra := dialFrom(t, "127.0.0.1", tun.Addr())
	if d := expectClosed(t, extra); d > waitLimit/2 {
		t.Errorf("the 65th connection took %v to close", d)
	}
	logs.waitLine(t, "level=WARN", "connection refused", "reason=per_source_handshakes", "peer=127.0.0.1:")
	other := tls.Client(dialFrom(t, "127.0.0.2", tun.Addr()), p.ClientTLS(t))
	expectEcho(t, other, "from another address")

	s := tun.Stats()
	if s.Refused[reasonPerSourceHandshakes] != 1 || s.Accepted != 65 || len(s.HandshakeFailures) != 0 {
		t.Errorf("stats %+v, want 1 refusal, 65 accepted, no handshake failure", s)
	}
	if n := inHandshake(tun, hsKey("127.0.0.1")); n != 64 {
		t.Errorf("%d counted for 127.0.0.1, want the 64 silent ones", n)
	}
	if n := inHandshake(tun, hsKey("127.0.0.2")); n != 0 {
		t.Errorf("%d counted for 127.0.0.2 after its handshake, want 0", n)
	}
}

// A client tunnel on another host carries all its application's
// connections from one address: established ones are never counted.
func TestPerSourceHandshakesFinishedNotCounted(t *testing.T) {
	p := pkitest.NewPKI(t)
	tun, _ := serverTunnel(t, p, longHandshake(), nil)
	conf := p.ClientTLS(t)
	for range 100 {
		expectEcho(t, dialTLS(t, tun.Addr(), conf), "established")
	}
	if n := tun.handshakes.size(); n != 0 {
		t.Errorf("%d sources counted with every handshake done, want none", n)
	}
	expectEcho(t, dialTLS(t, tun.Addr(), conf), "the 101st")
	if s := tun.Stats(); s.Active != 101 || len(s.Refused) != 0 {
		t.Errorf("stats %+v, want 101 active, none refused", s)
	}
}

// per_source_handshakes = 0 counts and refuses nothing.
func TestPerSourceHandshakesZeroDisables(t *testing.T) {
	limits := longHandshake()
	limits.PerSourceHandshakes = 0
	tun, _ := serverTunnel(t, pkitest.NewPKI(t), limits, nil)
	for range 70 {
		dialFrom(t, "127.0.0.1", tun.Addr())
	}
	eventually(t, func() bool { return tun.Stats().Accepted == 70 }, "70 accepted, got %+v", tun.Stats())
	if s := tun.Stats(); len(s.Refused) != 0 || tun.handshakes.size() != 0 {
		t.Errorf("refused %v, %d sources counted; want neither", s.Refused, tun.handshakes.size())
	}
}

// Behind a trusted balancer, connections count by the client the header
// names, from when it is read: never against the balancer, which carries
// every client.
func TestPerSourceHandshakesBehindBalancer(t *testing.T) {
	p := pkitest.NewPKI(t)
	limits := longHandshake()
	limits.PerSourceHandshakes = 2
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: limits,
		TLS: p.ServerTLS(t), ProxyProtocol: pp("v1", []string{"127.0.0.1/32"}, "none", false)})
	header := headerBytes(t, 1, claimedClient, claimedDst)
	client := claimedClient.IP.String() + "/32"

	for range 3 { // the balancer's connections, header not sent yet
		dialPlain(t, tun.Addr())
	}
	eventually(t, func() bool { return tun.Stats().Accepted == 3 }, "3 accepted, got %+v", tun.Stats())
	for range 2 {
		if _, err := dialPlain(t, tun.Addr()).Write(header); err != nil {
			t.Fatal(err)
		}
	}
	waitInHandshake(t, tun, client, 2)

	third := dialPlain(t, tun.Addr())
	if _, err := third.Write(header); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, third)
	logs.waitLine(t, "connection refused", "reason=per_source_handshakes",
		"peer="+claimedClient.String(), "via=127.0.0.1:")
	other := &net.TCPAddr{IP: net.ParseIP("203.0.113.8").To4(), Port: 4242}
	c := tlsAfterHeader(t, tun.Addr(), headerBytes(t, 1, other, claimedDst), false, p.ClientTLS(t))
	expectEcho(t, c, "another client behind the same balancer")

	if n := inHandshake(tun, hsKey("127.0.0.1")); n != 0 {
		t.Errorf("%d counted against the balancer, want 0", n)
	}
	if s := tun.Stats(); s.Refused[reasonPerSourceHandshakes] != 1 || tun.handshakes.size() != 1 {
		t.Errorf("refused %v, %d sources counted; want 1 refusal, 1 source", s.Refused, tun.handshakes.size())
	}
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	waitTableEmpty(t, tun)
}
