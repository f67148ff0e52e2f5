package proxy

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time        { return c.t }
func (c *fakeClock) add(d time.Duration)   { c.t = c.t.Add(d) }
func key(s string) netip.Prefix            { return netip.MustParsePrefix(s) }
func tcp(ip string, port int) *net.TCPAddr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: port} }
func keyOf(t *testing.T, a net.Addr) string {
	t.Helper()
	k, ok := sourceKey(a)
	if !ok {
		return "none"
	}
	return k.String()
}

func TestSourceKey(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{tcp("192.0.2.7", 1), "192.0.2.7/32"},
		{tcp("::ffff:192.0.2.7", 2), "192.0.2.7/32"},
		{tcp("2001:db8:1:2:aaaa::1", 3), "2001:db8:1:2::/64"},
		{tcp("2001:db8:1:2:bbbb::9", 4), "2001:db8:1:2::/64"}, // the same host's /64
		{tcp("2001:db8:1:3::1", 5), "2001:db8:1:3::/64"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, "fe80::/64"},
		{&net.UnixAddr{Name: "@", Net: "unix"}, "none"},
	} {
		if got := keyOf(t, tc.addr); got != tc.want {
			t.Errorf("sourceKey(%v) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

func TestBurstFor(t *testing.T) {
	for r, want := range map[float64]int{0.1: 1, 1: 1, 2.5: 3, 20: 20} {
		if got := burstFor(r); got != want {
			t.Errorf("burstFor(%v) = %d, want %d", r, got, want)
		}
	}
}

// One bucket per source: a noisy one runs dry while a quiet one is served,
// and it refills at the rate.
func TestSourceTableIsolates(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := newSourceTable(2, 100, clk.now) // burst 2
	noisy, quiet := key("192.0.2.1/32"), key("192.0.2.2/32")
	for i, want := range []bool{true, true, false, false} {
		if got := s.allow(noisy); got != want {
			t.Errorf("noisy attempt %d: %v, want %v", i, got, want)
		}
	}
	if !s.allow(quiet) {
		t.Error("the quiet source was refused")
	}
	clk.add(500 * time.Millisecond) // one token at 2/s
	if !s.allow(noisy) || s.allow(noisy) {
		t.Error("noisy source: want exactly one more after half a second")
	}
}

// Entries whose bucket is full again are forgotten on the next access; a
// full table evicts the least recently used entry, never the newcomer.
func TestSourceTableSweepAndBound(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := newSourceTable(1, 3, clk.now) // burst 1, refill 1s
	for _, k := range []string{"10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"} {
		if !s.allow(key(k)) {
			t.Fatalf("%s refused", k)
		}
		clk.add(100 * time.Millisecond)
	}
	if !s.allow(key("10.0.0.4/32")) {
		t.Fatal("a newcomer was refused because the table is full")
	}
	if s.size() != 3 {
		t.Errorf("size %d, want the bound 3", s.size())
	}
	if !s.allow(key("10.0.0.1/32")) {
		t.Error("10.0.0.1, the oldest, was not the one evicted")
	}
	if s.allow(key("10.0.0.3/32")) {
		t.Error("10.0.0.3 was evicted instead of the oldest")
	}
	clk.add(time.Second + time.Millisecond)
	s.allow(key("10.0.0.9/32"))
	if s.size() != 1 {
		t.Errorf("size %d after every old bucket refilled, want 1", s.size())
	}
}

// Update keeps the limiter state while the rates stay, so a reload does not
// give every source a fresh burst; new rates start new buckets.
func TestUpdateKeepsLimiters(t *testing.T) {
	limits := testLimits()
	limits.AcceptRate, limits.PerSourceRate = 5, 1
	tun, _ := clientTunnel(t, limits)
	opts := *tun.opts.Load()
	before := tun.lim.Load()
	opts.Limits.IdleTimeout = time.Minute
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	if tun.lim.Load() != before {
		t.Error("an update with the same rates rebuilt the limiters")
	}
	opts.Limits.AcceptRate = 6
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	if l := tun.lim.Load(); l == before || l.acceptRate != 6 {
		t.Errorf("new rate not in effect: %+v", l)
	}
}

// serverWith is a server tunnel with these rates in front of an echo backend.
func serverWith(t *testing.T, p *pkitest.PKI, acceptRate, perSource float64, block ProxyProtocol) (*Tunnel, *logBuf) {
	limits := testLimits()
	limits.AcceptRate, limits.PerSourceRate = acceptRate, perSource
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	return startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: limits,
		TLS: p.ServerTLS(t), ProxyProtocol: block})
}
