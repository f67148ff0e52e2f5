package main

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"
)

// slowlorisMargin is how long past handshake_timeout a silent connection
// may stay open before the soak calls it a failure: the daemon's timer,
// scheduling on a loaded machine, and the close reaching the peer.
const slowlorisMargin = 20 * time.Second

// partialClientHello is the start of a TLS record announcing a 512-byte
// ClientHello, of which only the first bytes ever come.
var partialClientHello = []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}

// slowloris keeps up to n connections open to the server tunnel that
// never finish a handshake: half say nothing, half send part of a
// ClientHello. Each must be closed by the daemon within handshake_timeout;
// the ones still open when the load stops are closed by the soak.
func (l *load) slowloris(ctx context.Context, n int) {
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	rnd := rand.New(rand.NewPCG(l.seed, 0x510))
	for {
		select {
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		partial := rnd.IntN(2) == 0
		wg.Go(func() {
			defer func() { <-slots }()
			l.holdSilent(ctx, partial)
		})
		// Spread the connections out: they come back about once per
		// handshake_timeout, not all at once.
		sleepCtx(ctx, handshakeTimeout/time.Duration(2*n))
	}
}

// holdSilent opens one slowloris connection and waits for the daemon to
// close it.
func (l *load) holdSilent(ctx context.Context, partial bool) {
	c, err := net.DialTimeout("tcp", l.addrs.server, dialTimeout)
	if err != nil {
		if ctx.Err() == nil {
			l.fail("hostile dial failed", "slowloris: %v", err)
		}
		return
	}
	l.tally.conn(connSlowloris)
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if partial {
		if _, err := c.Write(partialClientHello); err != nil {
			return // closed already, by the daemon or the soak
		}
	}
	opened := time.Now()
	c.SetReadDeadline(opened.Add(handshakeTimeout + slowlorisMargin))
	_, err = io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
		l.fail("slowloris not closed", "a connection that never finished its handshake was still open after %v",
			time.Since(opened).Round(time.Second))
	}
}

// flood opens a burst of connections every interval, alternately to the
// server tunnel (handshakes that never start) and to the client tunnel
// (which dials the server tunnel for each), and closes each at once, half
// with a FIN and half with a reset.
func (l *load) flood(ctx context.Context, burst int, interval time.Duration) {
	targets := []string{l.addrs.server, l.addrs.client}
	for round := 0; ctx.Err() == nil; round++ {
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() { l.floodOne(ctx, targets[round%2], i%2 == 0) })
		}
		wg.Wait()
		sleepCtx(ctx, interval)
	}
}

func (l *load) floodOne(ctx context.Context, addr string, reset bool) {
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		if ctx.Err() == nil {
			l.fail("hostile dial failed", "flood to %s: %v", addr, err)
		}
		return
	}
	l.tally.conn(connFlood)
	if reset {
		c.(*net.TCPConn).SetLinger(0)
	}
	c.Close()
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
