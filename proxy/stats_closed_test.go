package proxy

import (
	"maps"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// Every close reason proxy uses has its own counter; one outside the set
// (a verdict's) is still counted, by name.
func TestClosedCounters(t *testing.T) {
	var c counters
	for _, r := range closeReasons {
		c.closed(r, time.Second)
	}
	c.closed("answered_test", 2*time.Hour)
	c.closed("eof", 20*time.Millisecond)
	s := c.snapshot()
	if len(s.Closed) != len(closeReasons)+1 || s.Closed["eof"] != 2 || s.Closed["answered_test"] != 1 ||
		s.Closed[reasonHandshakeFailed] != 1 {
		t.Errorf("closed = %v", s.Closed)
	}
	h := s.Durations
	if want := uint64(len(closeReasons) + 2); h.Count != want {
		t.Errorf("duration count %d, want %d", h.Count, want)
	}
	for i, b := range h.Bounds {
		want := uint64(0)
		switch {
		case b >= 7200:
			want = uint64(len(closeReasons) + 2)
		case b >= 1:
			want = uint64(len(closeReasons) + 1)
		case b >= 0.05:
			want = 1
		}
		if h.Cumulative[i] != want {
			t.Errorf("duration bucket <= %v: %d, want %d", b, h.Cumulative[i], want)
		}
	}
	if len(closeIndex) != len(closeReasons) {
		t.Errorf("closeReasons has a duplicate: %d distinct of %d", len(closeIndex), len(closeReasons))
	}
}

// Each admitted connection is counted once when it closes, by the reason
// of its closing line, and timed: accepted = closed + active.
func TestClosedByReason(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: testLimits(), TLS: p.ServerTLS(t)})
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "counted")
	c.Close()
	logs.waitLine(t, "connection closed", "reason=eof")

	plain := dialPlain(t, tun.Addr()) // not TLS: the handshake fails
	plain.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	expectClosed(t, plain)
	logs.waitLine(t, "handshake failed", "reason=not_tls")

	dead, _ := startTunnel(t, Options{Mode: ModeServer, Target: deadTarget(t), Limits: testLimits(), TLS: p.ServerTLS(t)})
	expectClosed(t, dialTLS(t, dead.Addr(), p.ClientTLS(t)))

	want := map[string]uint64{"eof": 1, reasonHandshakeFailed: 1}
	eventually(t, func() bool { return maps.Equal(tun.Stats().Closed, want) }, "closed %v, want %v", tun.Stats().Closed, want)
	if s := tun.Stats(); s.Durations.Count != 2 || s.Accepted != 2 || s.Active != 0 {
		t.Errorf("durations count %d, accepted %d, active %d; want 2, 2, 0", s.Durations.Count, s.Accepted, s.Active)
	}
	wantDead := map[string]uint64{reasonDialFailed: 1}
	eventually(t, func() bool { return maps.Equal(dead.Stats().Closed, wantDead) },
		"closed %v, want %v", dead.Stats().Closed, wantDead)
	if f := dead.Stats().Targets[0].Failures; !maps.Equal(f, map[string]uint64{"refused": 1}) {
		t.Errorf("dial failures %v, want one refused", f)
	}
}
