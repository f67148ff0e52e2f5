package proxy

import (
	"errors"
	"net"

	"github.com/passtunnel/passtunnel/proxy/internal/pump"
	"github.com/passtunnel/passtunnel/proxy/internal/sock"
)

// pump carries bytes between the accepted peer and the target until both
// directions end, on goroutines of its own (see pump.Pump): it returns at
// once, and the last of them ends the connection.
func (c *conn) pump(peer, target net.Conn, subject string) outcome {
	s := &c.t.stats
	idle := c.opts.Limits.IdleTimeout
	var touch func()
	if idle > 0 {
		touch = c.touch
	}
	p := pump.New(pump.Way{Src: peer, Dst: target, Total: &s.bytesIn},
		pump.Way{Src: target, Dst: peer, Total: &s.bytesOut}, c.opts.Limits.WriteTimeout, pump.Events{
			Touch:      touch,
			Abort:      func(f pump.Failure) { c.abortWith("", targetBroke(f)) },
			HalfClosed: func() { c.startCloseWait(c.opts.Limits.CloseTimeout) },
			Done: func(f pump.Failure, in, out int64) {
				c.end(addrString(c.remote), outcome{reason: closeReason(f.Err), err: f.Err, subject: subject, in: in, out: out})
			},
		})
	c.startIdle(idle)
	// Cleartext that came with a PROXY header goes first, counted as usual.
	if err := p.Send(c.takeEarly()); err != nil {
		return outcome{reason: closeReason(err), err: err, subject: subject}
	}
	c.setInterrupt(p.Wake) // before Start: a direction may park
	p.Start()
	return outcome{pumping: true}
}

// targetBroke reports a target that reset the connection or was gone when
// written to: its peer is reset in turn.
func targetBroke(f pump.Failure) bool {
	return f.AtTarget && (sock.Reset(f.Err) || sock.BrokenPipe(f.Err))
}

// closeReason names how the pump ended when nothing outside (timers, drain)
// closed the connection first.
func closeReason(err error) string {
	switch {
	case err == nil:
		return "eof"
	case errors.Is(err, pump.ErrWriteStalled):
		return reasonWriteStalled
	case sock.Reset(err):
		return "reset"
	case sock.BrokenPipe(err):
		return "broken_pipe"
	}
	return "error"
}
