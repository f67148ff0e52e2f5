package proxy

import (
	"io"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// idBackend is a target that answers every connection with its id.
func idBackend(t *testing.T, id string) *backend {
	return startBackend(t, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
		c.Write([]byte(id))
		io.Copy(io.Discard, c)
	})
}

// deadTarget is an address every dial is refused on: 127.0.0.2 on the
// port of a listener held on 127.0.0.1 until the test ends, so nothing
// else can take the port meanwhile.
func deadTarget(t *testing.T) Address {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return tcpAddr(net.JoinHostPort("127.0.0.2", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)))
}

// answer connects through the server tunnel and returns the id of the
// backend that answered, "" when the tunnel closed the connection.
func answer(t *testing.T, tun *Tunnel, p *pkitest.PKI) string {
	t.Helper()
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	id := make([]byte, len("backend-a"))
	if _, err := io.ReadFull(c, id); err != nil {
		return ""
	}
	return string(id)
}

func targetStats(tun *Tunnel, target Address) TargetStats {
	for _, s := range tun.Stats().Targets {
		if s.Target == target.String() {
			return s
		}
	}
	return TargetStats{}
}

func TestTargetOrder(t *testing.T) {
	a, b, c := tcpAddr("a:1"), tcpAddr("b:1"), tcpAddr("c:1")
	names := func(l []*targetState) string {
		var out []string
		for _, s := range l {
			out = append(out, strings.TrimSuffix(s.addr.Addr, ":1"))
		}
		return strings.Join(out, "")
	}
	now := time.Now()
	list := func(bal Balance) *targetList {
		return newTargetTable().use(&Options{Targets: []Address{a, b, c}, Balance: bal})
	}
	fo := list(BalanceFailover)
	for range 3 {
		if got := names(fo.order(now)); got != "abc" {
			t.Errorf("failover: %s, want abc", got)
		}
	}
	fo.states[0].dialFailed(now, dialRefused) // a in backoff: after the others, still tried
	if got := names(fo.order(now)); got != "bca" {
		t.Errorf("failover, a down: %s, want bca", got)
	}
	if got := names(fo.order(now.Add(targetBackoffMin))); got != "abc" {
		t.Errorf("failover, a's backoff over: %s, want abc", got)
	}
	rr := list(BalanceRoundRobin)
	var got []string
	for range 4 {
		got = append(got, names(rr.order(now)))
	}
	if strings.Join(got, " ") != "abc bca cab abc" {
		t.Errorf("round_robin: %v", got)
	}
	rr.states[1].dialFailed(now, dialRefused)
	if got := names(rr.order(now)); got != "cab" { // b's turn would be next
		t.Errorf("round_robin, b down: %s, want cab", got)
	}
	rnd := list(BalanceRandom)
	for start, want := range []string{"abc", "bca", "cab"} {
		rnd.table.intn = func(n int) int { return start % n }
		if got := names(rnd.order(now)); got != want {
			t.Errorf("random from %d: %s, want %s", start, got, want)
		}
	}
}

func TestTargetBackoff(t *testing.T) {
	s := &targetState{addr: tcpAddr("a:1")}
	now := time.Now()
	var got []time.Duration
	for range 7 {
		d := s.dialFailed(now, dialRefused)
		got = append(got, d)
		if again := s.dialFailed(now.Add(d/2), dialRefused); again != 0 { // another connection, meanwhile
			t.Errorf("a failure during the backoff lengthened it by %v", again)
		}
		if s.up(now.Add(d - time.Millisecond)) {
			t.Errorf("up before its %v backoff ended", d)
		}
		now = now.Add(d)
		if !s.up(now) {
			t.Errorf("still down after its %v backoff", d)
		}
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoffs %v, want %v seconds", got, want)
		}
	}
	if !s.succeeded() || s.dialFailed(now, dialRefused) != targetBackoffMin {
		t.Error("a success did not reset the backoff")
	}
	if s.ok.Load() != 1 || s.failed.Load() != 15 {
		t.Errorf("ok %d failed %d, want 1 and 15", s.ok.Load(), s.failed.Load())
	}
}

// A dead first target costs one failed dial, then sits in backoff while
// the second takes the connections; no connection is refused.
func TestFailoverSkipsDeadTarget(t *testing.T) {
	p := pkitest.NewPKI(t)
	dead, live := deadTarget(t), idBackend(t, "backend-b")
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Targets: []Address{dead, live.addr()},
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	logs.waitLine(t, "tunnel listening", "target="+dead.Addr+","+live.addr().Addr, "balance=failover")
	for i := range 3 {
		if got := answer(t, tun, p); got != "backend-b" {
			t.Fatalf("connection %d: answered by %q", i, got)
		}
	}
	logs.waitLine(t, "level=WARN", "target dial failed", "target="+dead.Addr, "reason=refused", "backoff=1s",
		"connection refused")
	d, l := targetStats(tun, dead), targetStats(tun, live.addr())
	if d.OK != 0 || d.Failed != 1 || d.Up || !maps.Equal(d.Failures, map[string]uint64{"refused": 1}) ||
		l.OK != 3 || l.Failed != 0 || !l.Up || len(l.Failures) != 0 {
		t.Errorf("stats: dead %+v, live %+v", d, l)
	}
}

// With every target down, each is still tried by each connection, and
// the connection is refused naming every failure.
func TestAllTargetsFailed(t *testing.T) {
	p := pkitest.NewPKI(t)
	a, b := deadTarget(t), deadTarget(t)
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Targets: []Address{a, b}, Balance: BalanceRoundRobin,
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	for i := range 2 {
		if got := answer(t, tun, p); got != "" {
			t.Fatalf("connection %d answered by %q", i, got)
		}
	}
	line := logs.waitLine(t, "level=WARN", "target connection failed", "target="+a.Addr+","+b.Addr, "reason=target_dial_failed")
	if !containsAll(line, []string{"every target failed: " + a.Addr + ": dial tcp", "; " + b.Addr + ": dial tcp"}) {
		t.Errorf("line %q does not name both failures", line)
	}
	logs.waitLine(t, "connection closed", "reason=target_dial_failed")
	for _, x := range []Address{a, b} {
		if s := targetStats(tun, x); s.Failed != 2 || s.Up {
			t.Errorf("%s: %+v, want 2 failed dials and down", x, s)
		}
	}
}

// A name is resolved at each dial, and every address it resolves to is
// tried: a refused first address does not refuse the connection.
func TestTargetNameEveryAddress(t *testing.T) {
	p := pkitest.NewPKI(t)
	live := idBackend(t, "backend-a")
	port := live.ln.Addr().(*net.TCPAddr).Port
	deadIP, liveIP := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.1")
	dns := startDNS(t, deadIP)
	name := tcpAddr(net.JoinHostPort("svc.test", strconv.Itoa(port)))
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Targets: []Address{name}, resolver: dns.resolver(),
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	if got := answer(t, tun, p); got != "" {
		t.Fatalf("answered by %q while the name had only a dead address", got)
	}
	logs.waitLine(t, "target connection failed", "target=svc.test:", "connection refused")

	dns.set(deadIP, liveIP) // the dead address first
	before := dns.queries.Load()
	for i := range 2 {
		if got := answer(t, tun, p); got != "backend-a" {
			t.Fatalf("connection %d: answered by %q", i, got)
		}
	}
	if n := dns.queries.Load() - before; n < 2 {
		t.Errorf("%d lookups for 2 dials: the name was not resolved at each dial", n)
	}
	if s := targetStats(tun, name); s.OK != 2 || s.Failed != 1 || !s.Up {
		t.Errorf("stats %+v", s)
	}
	logs.waitLine(t, "level=INFO", "target up again", "target=svc.test:")
}

// A client tunnel dials before its handshake: it handshakes with the
// target that answered.
func TestClientTargets(t *testing.T) {
	p := pkitest.NewPKI(t)
	dead := deadTarget(t)
	live := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	tun, logs := startTunnel(t, Options{Mode: ModeClient, Targets: []Address{dead, live.addr()},
		Limits: testLimits(), TLS: p.ClientTLS(t)})
	for range 2 {
		c := dialPlain(t, tun.Addr())
		expectEcho(t, c, "through the second target")
		c.Close()
	}
	logs.waitLine(t, "target dial failed", "target="+dead.Addr)
	if s := targetStats(tun, live.addr()); s.OK != 2 {
		t.Errorf("live target: %+v", s)
	}
}

// A reload keeping a target keeps its state; one dropping it drops it.
func TestTargetsAcrossUpdate(t *testing.T) {
	p := pkitest.NewPKI(t)
	dead, live := deadTarget(t), idBackend(t, "backend-b")
	opts := Options{Name: "test", Mode: ModeServer, Listen: tcpAddr("127.0.0.1:0"), Targets: []Address{dead, live.addr()},
		Limits: testLimits(), TLS: p.ServerTLS(t)}
	tun, _ := startTunnel(t, opts)
	answer(t, tun, p)
	opts.Balance = BalanceRoundRobin
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	if s := targetStats(tun, dead); s.Failed != 1 || s.Up {
		t.Errorf("dead target after an update: %+v", s)
	}
	opts.Targets = []Address{live.addr()}
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	if got := tun.Stats().Targets; len(got) != 1 || got[0].OK != 1 {
		t.Errorf("targets after dropping one: %+v", got)
	}
}
