package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"math"
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
	// tls is the TLS side once its handshake started, for the closing
	// line's TLS fields (read at close only: no copy of its state per
	// connection).
	tls *tls.Conn

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
	// resetPeer: the target failed (dial refused, reset, broken pipe), so
	// closing the accepted peer sends a reset, which a client can tell
	// from an empty reply (HAProxy does the same).
	resetPeer bool
	finished  bool // timers must not re-arm
	idle      *time.Timer
	lifetime  *time.Timer
	closeWait *time.Timer // close_timeout, once a direction ended
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
	// (a failed inbound handshake, a PROXY header refused): peers can
	// trigger those at will, so they get no unthrottled "connection
	// closed" line; reason still counts it.
	logged bool
	// pumping: the pump carries on and ends the connection (see pump).
	pumping bool
	// resetPeer: closing the accepted peer sent it a reset (see
	// conn.resetPeer), set by end.
	resetPeer bool
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
	if r := c.abortReason(); r != "" { // timers, drain: their reason wins over the errors they caused
		res.reason, res.err = r, nil
	}
	took := time.Since(c.start)
	c.t.stats.closed(res.reason, took)
	if res.resetPeer = c.peerWasReset(); res.resetPeer {
		c.t.stats.peerReset(res.reason)
	}
	c.report(peer, res, took)
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
		return outcome{reason: reasonHandshakeFailed, logged: true}
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
		c.handshakeFailed(err, "peer", peer, "target", c.dialled.String())
		c.markResetPeer() // to the application, a target it cannot use is a target that failed
		return outcome{reason: reasonTargetTLS, err: err}
	}
	return c.pump(c.peer, tc, peerSubject(verified))
}

// report writes the one line every handled connection ends with, its
// reason already final (see end). peer is who connected to the listener in
// either mode, target where the connection was dialled; the TLS fields are
// the TLS side's: the peer's in server mode, the target's in client mode.
func (c *conn) report(peer string, res outcome, took time.Duration) {
	if res.logged {
		return
	}
	args := make([]any, 0, 32)
	args = append(args, "peer", peer)
	if c.via != nil {
		args = append(args, "via", addrString(c.via))
	}
	if c.dialled.Addr != "" {
		args = append(args, "target", c.dialled.String())
	}
	args = append(args, "peer_subject", res.subject)
	args = c.tlsArgs(args)
	args = append(args,
		"bytes_in", res.in,
		"bytes_out", res.out,
		// Seconds as a float, to the microsecond: what a log query divides
		// and compares without knowing Go's duration units.
		"duration_s", math.Round(took.Seconds()*1e6)/1e6,
		"reason", res.reason,
	)
	if res.resetPeer {
		args = append(args, "reset_peer", true)
	}
	if res.err != nil {
		args = append(args, "error", res.err)
	}
	c.t.log.Info("connection closed", args...)
}

// tlsArgs appends the closing line's TLS fields, when the TLS side
// completed its handshake.
func (c *conn) tlsArgs(args []any) []any {
	if c.tls == nil {
		return args
	}
	st := c.tls.ConnectionState()
	if !st.HandshakeComplete {
		return args
	}
	return append(args,
		"tls_version", tlsVersion(st.Version),
		"cipher", tls.CipherSuiteName(st.CipherSuite),
		"resumed", st.DidResume,
		"sni", st.ServerName,
		"alpn", st.NegotiatedProtocol,
	)
}

// tlsVersion names a TLS version the way OpenSSL and web servers log it
// ("TLSv1.3"), one word to grep.
func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1.0"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return tls.VersionName(v)
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
