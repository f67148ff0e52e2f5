package proxy

import (
	"crypto/x509"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one accepted connection and, once dialed, its target.
type conn struct {
	t *Tunnel
	// opts are the tunnel's settings when this connection was accepted: a
	// config reload changes them for new connections only.
	opts  *Options
	peer  net.Conn // as accepted, never wrapped: closing it unblocks everything
	start time.Time
	// remote is the client: the address a PROXY header gave, else peer's.
	// via is the balancer that sent the header, nil without one, and
	// claimedDst the destination the header named. Only the connection's
	// goroutine touches these and the two fields after them.
	remote, via, claimedDst net.Addr
	// early holds bytes read along with the PROXY header, not yet passed on.
	early []byte
	// hsDeadline is when handshake_timeout ends, once a PROXY header read
	// started the clock.
	hsDeadline time.Time
	// hs is the connection's count in per_source_handshakes while its
	// handshake runs; given back when it ends, or at the latest by end.
	hs handshakeHold
	// dialled is the target dial connected to.
	dialled Address

	// lastActive is when a byte last moved, as an offset from start, so the
	// pump marks activity with one atomic store instead of resetting timers.
	lastActive atomic.Int64

	mu     sync.Mutex
	target net.Conn // as dialed; nil until then
	// interrupt is what abort calls before closing the sockets: it cancels
	// the dial in progress (see dial), later it wakes pump directions
	// parked while idle (see pump.Pump.Wake). nil: nothing to do.
	interrupt func()
	reason    string // set by abort: the first reason wins
	aborted   bool
	finished  bool // timers must not re-arm
	idle      *time.Timer
	lifetime  *time.Timer
}

func newConn(t *Tunnel, opts *Options, peer net.Conn) *conn {
	c := &conn{t: t, opts: opts, peer: peer, remote: peer.RemoteAddr(), start: time.Now()}
	if rc, ok := peer.(*routedConn); ok { // SNI routed it: see Group
		c.takeRouted(rc)
	}
	return c
}

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
	if o.Mode == ModeServer {
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
	tc, verified, err := c.handshake(c.peer, c.takeEarly(), c.handshakeTimeout())
	c.hs.release() // done or failed, the handshake holds no per-source count now
	if r := answered(err); r != "" {
		return outcome{reason: r}
	}
	if err != nil {
		if r := c.abortReason(); r != "" {
			return outcome{reason: r}
		}
		c.handshakeFailed(explainServerHandshake(tc, err), c.peerArgs()...)
		return outcome{logged: true}
	}
	subject := peerSubject(verified)
	raw, _, err := c.dial(Address{}, o.Limits.ConnectTimeout, tc, verified)
	if err != nil {
		return c.targetFailed(peer, reasonDialFailed, err, subject)
	}
	return c.pump(tc, raw, subject)
}

// runClient: cleartext in, TLS out.
func (c *conn) runClient(peer string) outcome {
	o := c.opts
	var original Address // a transparent tunnel's: the connection's own destination
	if o.Transparent.on() {
		var res outcome
		var ok bool
		if original, res, ok = c.originalTarget(peer); !ok {
			return res
		}
	}
	raw, early, err := c.dial(original, o.Limits.ConnectTimeout, nil, nil)
	if err != nil {
		return c.targetFailed(peer, dialReason(err), err, "")
	}
	tc, verified, err := c.handshake(raw, early, o.Limits.HandshakeTimeout)
	if r := answered(err); r != "" {
		return outcome{reason: r}
	}
	if err != nil {
		if r := c.abortReason(); r != "" {
			return outcome{reason: r}
		}
		// The TLS peer here is the target: its address is the one an
		// operator needs to find the certificate that was refused.
		c.handshakeFailed(err, "peer", c.dialled.String(), "client", peer)
		return outcome{reason: reasonTargetTLS, err: err}
	}
	return c.pump(c.peer, tc, peerSubject(verified))
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

// peerSubject is the subject of the verified peer certificate, "" for none.
func peerSubject(verified *x509.Certificate) string {
	if verified == nil {
		return ""
	}
	return verified.Subject.String()
}

// addrString renders an address the way users write it; unix peers are
// usually unnamed.
func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	if a.Network() == "unix" {
		if a.String() == "" {
			return "unix:@"
		}
		return "unix:" + a.String()
	}
	return a.String()
}
