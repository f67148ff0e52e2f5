package proxy

import (
	"slices"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func TestHistogramBuckets(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 2 * time.Second, time.Minute} {
		h.observe(handshakeBounds[:], d)
	}
	s := h.snapshot(handshakeBounds[:])
	if s.Count != 5 {
		t.Errorf("count = %d, want 5", s.Count)
	}
	if s.Sum < 62.004-1e-9 || s.Sum > 62.004+1e-9 {
		t.Errorf("sum = %v, want 62.004", s.Sum)
	}
	// Cumulative: <=1ms holds 0 and 1ms (bounds are inclusive), <=5ms adds
	// 3ms, <=2.5s adds 2s; the minute is above every bound (only in Count).
	want := map[float64]uint64{0.001: 2, 0.0025: 2, 0.005: 3, 1: 3, 2.5: 4, 30: 4}
	for i, b := range s.Bounds {
		if w, ok := want[b]; ok && s.Cumulative[i] != w {
			t.Errorf("bucket <= %v: %d, want %d", b, s.Cumulative[i], w)
		}
	}
	if !slices.IsSorted(s.Bounds) || len(s.Bounds) != len(s.Cumulative) {
		t.Errorf("bounds %v, %d cumulative counts", s.Bounds, len(s.Cumulative))
	}
	s.Bounds[0] = 99 // a snapshot is the caller's
	if h.snapshot(handshakeBounds[:]).Bounds[0] != 0.001 {
		t.Error("changing a snapshot's bounds changed the histogram's")
	}
}

// Both a completed handshake and a failed one are observed, so the count
// is what a client attempted; the failure is also counted by reason.
func TestHandshakeDurationsRecorded(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	tun, _ := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(),
		Limits: testLimits(), TLS: p.ServerTLS(t)})

	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "timed")
	c.Close()
	raw := dialPlain(t, tun.Addr())
	if _, err := raw.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, raw)

	eventually(t, func() bool { return tun.Stats().HandshakeFailures["not_tls"] == 1 }, "a not_tls failure counted")
	h := tun.Stats().Handshakes
	if h.Count != 2 || h.Cumulative[len(h.Cumulative)-1] != 2 || h.Sum <= 0 {
		t.Errorf("handshakes = %+v, want 2 observations with a positive sum", h)
	}
}
