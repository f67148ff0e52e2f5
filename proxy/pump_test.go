package proxy

import (
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/proxy/internal/pump"
)

// A direction whose goroutine went idle carries on, on a new goroutine,
// both ways and through a half-close.
func TestIdleDirectionsCarryOn(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(),
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "before")
	time.Sleep(3 * pump.ParkAfter) // both directions give way once
	expectEcho(t, c, "after going idle")
	for range 5 { // busy across a deadline: it starts over instead
		time.Sleep(pump.ParkAfter / 3)
		expectEcho(t, c, "busy")
	}
	time.Sleep(3 * pump.ParkAfter)
	pump.CloseWrite(c)
	expectClosed(t, c)
	logs.waitLine(t, "connection closed", "reason=eof", "bytes_in=42", "bytes_out=42")
}

// Connections whose directions went idle still end when the tunnel closes
// them: by idle_timeout, and by Close.
func TestIdleDirectionsAborted(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	limits := testLimits()
	limits.IdleTimeout = 4 * pump.ParkAfter
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(),
		Limits: limits, TLS: p.ServerTLS(t)})
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "soon idle")
	expectClosed(t, c)
	logs.waitLine(t, "connection closed", "reason=idle_timeout")

	tun, _ = startTunnel(t, Options{Mode: ModeServer, Target: be.addr(),
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	c = dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "idle until Close")
	time.Sleep(3 * pump.ParkAfter)
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c)
}
