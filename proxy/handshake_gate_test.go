package proxy

import (
	"crypto/tls"
	"errors"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func TestHandshakeSlots(t *testing.T) {
	auto := max(AutoHandshakesPerCPU*runtime.GOMAXPROCS(0), MinAutoHandshakes)
	for _, c := range []struct{ in, want int }{{0, auto}, {-1, auto}, {1, 1}, {100000, 100000}} {
		if got := handshakeSlots(c.in); got != c.want {
			t.Errorf("handshakeSlots(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// granted reports whether w has its slot.
func granted(w *gateWaiter) bool {
	select {
	case <-w.ready:
		return true
	default:
		return false
	}
}

func TestGateServesInAcceptOrder(t *testing.T) {
	var g handshakeGate
	g.setLimit(1)
	t0 := time.Now()
	if g.enter(t0) != nil {
		t.Fatal("the first handshake waited with a slot free")
	}
	// Queued out of order: a handshake coming back from a wait on its peer
	// (accepted first) goes before those accepted after it.
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }
	waiters := map[int]*gateWaiter{}
	for _, i := range []int{3, 1, 4, 2} {
		waiters[i] = g.enter(at(i))
		if waiters[i] == nil {
			t.Fatalf("handshake %d got a slot while the only one is held", i)
		}
	}
	if n := g.waiting.Load(); n != 4 {
		t.Fatalf("waiting = %d, want 4", n)
	}
	for _, next := range []int{1, 2, 3, 4} {
		g.release()
		for i, w := range waiters {
			if want := i <= next; granted(w) != want {
				t.Fatalf("after %d releases: handshake %d granted %v, want %v", next, i, granted(w), want)
			}
		}
	}
	if n := g.waiting.Load(); n != 0 {
		t.Errorf("waiting = %d after all were served, want 0", n)
	}
}

func TestGateSetLimit(t *testing.T) {
	var g handshakeGate
	g.setLimit(1)
	now := time.Now()
	g.enter(now)
	w := g.enter(now.Add(time.Millisecond))
	if w == nil || granted(w) {
		t.Fatal("a second handshake got a slot under max_handshakes 1")
	}
	g.setLimit(2) // a reload: the waiter needs no release
	if !granted(w) {
		t.Error("raising the limit did not serve the waiter")
	}
	g.setLimit(1) // lowered: both keep their slots, the next one waits for both
	g.release()
	if w := g.enter(now.Add(2 * time.Millisecond)); w == nil {
		t.Error("a handshake got a slot with 1 held under max_handshakes 1")
	} else {
		g.leave(w)
	}
}

// gatedConn is as much of a conn as handshakeSlot uses.
func gatedConn(t *testing.T) *conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &conn{t: &Tunnel{}, opts: &Options{}, peer: a, start: time.Now()}
}

func TestGateWaiterLeavesAtDeadline(t *testing.T) {
	var g handshakeGate
	g.setLimit(1)
	g.enter(time.Now().Add(-time.Second)) // held by an older handshake
	c := gatedConn(t)
	slot := &handshakeSlot{c: c, gate: &g, deadline: time.Now().Add(50 * time.Millisecond)}
	start := time.Now()
	err := slot.Resume()
	if !errors.Is(err, errGateTimeout) {
		t.Fatalf("Resume = %v, want the gate's timeout", err)
	}
	if took := time.Since(start); took < 40*time.Millisecond || took > waitLimit {
		t.Errorf("left the queue after %v, want at its deadline (50ms)", took)
	}
	if r := classifyHandshake(err); r != hsTimeout {
		t.Errorf("counted as %q, want %q", r, hsTimeout)
	}
	if n := g.waiting.Load(); n != 0 {
		t.Errorf("waiting = %d after the waiter left, want 0", n)
	}
	slot.end()
	// The slot it never got is still the holder's to give: one release
	// leaves the gate empty, and the next handshake takes a slot at once.
	g.release()
	if w := g.enter(time.Now()); w != nil {
		t.Error("the gate has no free slot after its only holder released it")
	}
}

func TestGateWaiterLeavesOnAbort(t *testing.T) {
	var g handshakeGate
	g.setLimit(1)
	g.enter(time.Now().Add(-time.Second))
	c := gatedConn(t)
	slot := &handshakeSlot{c: c, gate: &g, deadline: time.Now().Add(time.Minute)}
	done := make(chan error, 1)
	go func() { done <- slot.Resume() }()
	eventually(t, func() bool { return g.waiting.Load() == 1 }, "the handshake waiting for a slot")
	c.abort(reasonDrain)
	select {
	case err := <-done:
		if !errors.Is(err, errAborted) {
			t.Errorf("Resume = %v after abort, want errAborted", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("abort did not end the wait for a slot")
	}
	if n := g.waiting.Load(); n != 0 {
		t.Errorf("waiting = %d after the abort, want 0", n)
	}
}

// TestGateReleasedWhileWaitingForPeer: with max_handshakes 1, a client
// that had the server's answer to its ClientHello and never sends its
// second flight does not hold the slot: the slot is given back while its
// handshake waits for the peer, and another client's handshake runs
// meanwhile (handshake_timeout is a minute here).
func TestGateReleasedWhileWaitingForPeer(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	l := longHandshake()
	l.MaxHandshakes = 1
	tun, _ := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: l, TLS: p.ServerTLS(t)})

	stalled := stallAtSecondFlight(t, tun.Addr(), p.ClientTLS(t))
	<-stalled // the server answered: its handshake now waits for this peer
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "served while the other handshake waits for its peer")
	if n := tun.Stats().HandshakesWaiting; n != 0 {
		t.Errorf("HandshakesWaiting = %d, want 0", n)
	}
}

// stallAtSecondFlight starts a TLS client that stops before its second
// flight, until the test ends; the channel closes when it got there.
func stallAtSecondFlight(t *testing.T, addr net.Addr, cfg *tls.Config) <-chan struct{} {
	t.Helper()
	raw := dialPlain(t, addr)
	reached, never := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(never) })
	go func() { _ = tls.Client(&stallConn{Conn: raw, reached: reached, never: never}, cfg).Handshake() }()
	select {
	case <-reached:
	case <-time.After(waitLimit):
		t.Fatal("no answer from the server to the ClientHello")
	}
	return reached
}

// stallConn blocks the second Write (a TLS client's second flight) until
// never closes, closing reached when it gets there.
type stallConn struct {
	net.Conn
	writes         int
	reached, never chan struct{}
}

func (s *stallConn) Write(b []byte) (int, error) {
	if s.writes++; s.writes == 2 {
		close(s.reached)
		<-s.never
		return 0, net.ErrClosed
	}
	return s.Conn.Write(b)
}

// TestGateHoldsComputingHandshakes: with max_handshakes 1, a handshake
// that computes (held here in GetConfigForClient) makes the next one wait,
// which Stats counts; an Update that raises the limit lets it through.
func TestGateHoldsComputingHandshakes(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	entered, hold := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	cfg := p.ServerTLS(t)
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-hold
		}
		return nil, nil
	}
	l := longHandshake()
	l.MaxHandshakes = 1
	opts := Options{Mode: ModeServer, Target: be.addr(), Limits: l, TLS: cfg}
	tun, _ := startTunnel(t, opts)
	clientCfg := p.ClientTLS(t)

	first := dialPlain(t, tun.Addr())
	go func() { _ = tls.Client(first, clientCfg).Handshake() }() // ends when the test closes first
	defer close(hold)                                            // before the cleanups close the tunnel
	<-entered
	second := make(chan *tls.Conn, 1)
	raw := dialPlain(t, tun.Addr())
	go func() {
		tc := tls.Client(raw, clientCfg)
		_ = tc.SetDeadline(time.Now().Add(waitLimit))
		if tc.Handshake() != nil {
			close(second)
			return
		}
		second <- tc
	}()
	eventually(t, func() bool { return tun.Stats().HandshakesWaiting == 1 }, "the second handshake waiting")
	select {
	case <-second:
		t.Fatal("the second handshake ended while the only slot was held")
	default:
	}
	opts.Name, opts.Listen = "test", tcpAddr("127.0.0.1:0")
	opts.Limits.MaxHandshakes = 2
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	select {
	case c, ok := <-second:
		if !ok {
			t.Fatal("the second handshake failed")
		}
		expectEcho(t, c, "through once the limit was raised")
	case <-time.After(waitLimit):
		t.Fatal("raising max_handshakes did not let the waiting handshake through")
	}
}
