package proxy

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// outcome is how a connection ended, for its closing log line.
type outcome struct {
	reason  string
	err     error
	subject string
	in, out int64
	// logged is set when a throttled line already covered this connection
	// (a failed inbound handshake): peers can trigger those at will, so they
	// get no unthrottled "connection closed" line.
	logged bool
	// pumping: the pump carries on and ends the connection (see pump).
	pumping bool
}

// serve handles one admitted connection from accept until the pump takes
// over, or to its end.
func (c *conn) serve() {
	o := c.opts
	if res, ok := c.acceptHeader(); !ok {
		c.end(addrString(c.remote), res)
		return
	}
	peer := addrString(c.remote) // the client, also behind a balancer
	if o.ConnWarning != "" {
		c.t.log.Warn(o.ConnWarning, "peer", peer)
	}
	c.startLifetime(o.Limits.MaxLifetime)
	var res outcome
	if o.Mode == config.ModeServer {
		res = c.runServer(peer)
	} else {
		res = c.runClient(peer)
	}
	if !res.pumping {
		c.end(peer, res)
	}
}

// end is the last thing done for every handled connection, on the
// goroutine that finished it.
func (c *conn) end(peer string, res outcome) {
	c.hs.release() // still held when the connection ended before its handshake did
	c.finish()
	c.report(peer, res)
	c.t.release(c)
}

// runServer: TLS in, cleartext out. The handshake comes before the dial so
// that an unauthenticated peer never reaches the target.
func (c *conn) runServer(peer string) outcome {
	o := c.opts
	tc := tls.Server(budgeted(withRecords(c.tlsIn()), o.MaxHandshakeBytes), o.TLS) // see recordConn
	verified, err := c.timedHandshake(tc, c.peer, c.handshakeTimeout())
	c.hs.release() // done or failed, the handshake holds no per-source count now
	if err != nil {
		if r := c.abortReason(); r != "" {
			return outcome{reason: r}
		}
		c.handshakeFailed(explainServerHandshake(tc, err), c.peerArgs()...)
		return outcome{logged: true}
	}
	if isACMEChallenge(tc) {
		return outcome{reason: reasonACMEChallenge}
	}
	subject := peerSubject(verified)
	raw, err := c.dial(o.Target, o.Limits.ConnectTimeout, tc, verified)
	if err != nil {
		return c.targetFailed(peer, reasonDialFailed, err, subject)
	}
	return c.pump(tc, raw, subject)
}

// runClient: cleartext in, TLS out.
func (c *conn) runClient(peer string) outcome {
	o := c.opts
	raw, err := c.dial(o.Target, o.Limits.ConnectTimeout, nil, nil)
	if err != nil {
		return c.targetFailed(peer, reasonDialFailed, err, "")
	}
	// A config of the tunnel's certificate now, which its session ticket
	// will prove (see pki.ForHandshake).
	tc := tls.Client(budgeted(withRecords(raw), o.MaxHandshakeBytes), pki.ForHandshake(o.TLS)) // see recordConn
	verified, err := c.timedHandshake(tc, raw, o.Limits.HandshakeTimeout)
	if err != nil {
		if r := c.abortReason(); r != "" {
			return outcome{reason: r}
		}
		// The TLS peer here is the target: its address is the one an
		// operator needs to find the certificate that was refused.
		c.handshakeFailed(err, "peer", o.Target.String(), "client", peer)
		return outcome{reason: reasonTargetTLS, err: err}
	}
	return c.pump(c.peer, tc, peerSubject(verified))
}

// handshakeFailed counts a failed handshake by reason and logs it
// (throttled), with the tunnel's hint when the failure is about certificates.
func (c *conn) handshakeFailed(err error, who ...any) {
	reason := handshakeReason(err)
	c.t.stats.handshakeFailed(reason)
	args := append(who, "reason", reason, "error", err)
	if hint := c.opts.HandshakeHint; hint != "" && certificateReason(reason) {
		args = append(args, "hint", hint)
	}
	c.t.warn.Warn("handshake failed", args...)
}

// targetFailed reports a failed dial or handshake toward the target. Besides
// the closing line, a throttled WARN makes it visible at warn level.
func (c *conn) targetFailed(peer, reason string, err error, subject string) outcome {
	if r := c.abortReason(); r != "" {
		return outcome{reason: r, subject: subject}
	}
	c.t.warn.Warn("target connection failed", "peer", peer, "target", c.opts.Target.String(),
		"reason", reason, "error", err)
	return outcome{reason: reason, err: err, subject: subject}
}

// pump carries bytes between the accepted peer and the target until both
// directions end, on goroutines of its own (see newPump): it returns at
// once, and the last of them ends the connection.
func (c *conn) pump(peer, target net.Conn, subject string) outcome {
	s := &c.t.stats
	idle := c.opts.Limits.IdleTimeout
	var touch func()
	if idle > 0 {
		touch = c.touch
	}
	up := &direction{src: peer, dst: target, total: &s.bytesIn, touch: touch}
	down := &direction{src: target, dst: peer, total: &s.bytesOut, touch: touch}
	c.startIdle(idle)
	// Cleartext that came with a PROXY header goes first, counted as usual.
	if err := up.write(c.takeEarly()); err != nil {
		return outcome{reason: closeReason(err), err: err, subject: subject}
	}
	p := newPump(up, down, func() { c.abort("") }, func(err error) {
		c.end(addrString(c.remote), outcome{reason: closeReason(err), err: err, subject: subject, in: up.n, out: down.n})
	})
	c.setInterrupt(p.wake) // before start: a direction may park
	p.start()
	return outcome{pumping: true}
}

// report writes the one line every handled connection ends with. A reason
// given by abort (timers, drain) wins over the errors it caused.
func (c *conn) report(peer string, res outcome) {
	if res.logged {
		return
	}
	if r := c.abortReason(); r != "" {
		res.reason, res.err = r, nil
	}
	args := []any{"peer", peer}
	if c.via != nil {
		args = append(args, "via", addrString(c.via))
	}
	args = append(args,
		"peer_subject", res.subject,
		"bytes_in", res.in,
		"bytes_out", res.out,
		"duration", time.Since(c.start).Round(time.Microsecond),
		"reason", res.reason,
	)
	if res.err != nil {
		args = append(args, "error", res.err)
	}
	c.t.log.Info("connection closed", args...)
}
