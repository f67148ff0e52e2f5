package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// errAborted is returned by steps that lost a race with abort.
var errAborted = errors.New("connection aborted")

// Close reasons decided by the tunnel rather than by the peers.
const (
	reasonIdle       = "idle_timeout"
	reasonLifetime   = "max_lifetime"
	reasonDrain      = "drain_timeout"
	reasonShutdown   = "shutdown"
	reasonDialFailed = "target_dial_failed"
	reasonTargetTLS  = "target_handshake_failed"
	reasonMaxConns   = "max_connections"
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

	// lastActive is when a byte last moved, as an offset from start, so the
	// pump marks activity with one atomic store instead of resetting timers.
	lastActive atomic.Int64

	mu     sync.Mutex
	target net.Conn // as dialed; nil until then
	// interrupt is what abort calls before closing the sockets: it cancels
	// the dial in progress (see dial), later it wakes pump directions
	// parked while idle (see pumpState.wake). nil: nothing to do.
	interrupt func()
	reason    string // set by abort: the first reason wins
	aborted   bool
	finished  bool // timers must not re-arm
	idle      *time.Timer
	lifetime  *time.Timer
}

func newConn(t *Tunnel, opts *Options, peer net.Conn) *conn {
	return &conn{t: t, opts: opts, peer: peer, remote: peer.RemoteAddr(), start: time.Now()}
}

// abort closes both sides from outside the connection's goroutines. The
// first call decides the reason; an empty one (the pump unblocking itself
// after an error) leaves the reason to that error.
func (c *conn) abort(reason string) {
	c.mu.Lock()
	if !c.aborted {
		c.reason = reason
	}
	c.aborted = true
	target, interrupt := c.target, c.interrupt
	c.mu.Unlock()
	c.closeRaw(target, interrupt)
}

// closeRaw calls interrupt, if any, and then closes the client side and
// target, both as read under mu by the caller. Raw connections, never
// *tls.Conn: tls.Conn.Close would try to send close_notify and could block
// behind a stuck Write.
func (c *conn) closeRaw(target net.Conn, interrupt func()) {
	if interrupt != nil {
		interrupt()
	}
	c.peer.Close()
	if target != nil {
		target.Close()
	}
}

// abortReason is the reason given to abort, or "".
func (c *conn) abortReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// setTarget records the dialed connection so abort can close it. It fails if
// abort came first; the caller then closes raw itself.
func (c *conn) setTarget(raw net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return false
	}
	c.target = raw
	return true
}

// setInterrupt records what abort calls before closing (nil: nothing). It
// fails if abort came first.
func (c *conn) setInterrupt(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted && f != nil {
		return false
	}
	c.interrupt = f
	return true
}

// startLifetime arms max_lifetime, counted from accept.
func (c *conn) startLifetime(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lifetime = time.AfterFunc(d, func() { c.abort(reasonLifetime) })
}

// startIdle arms idle_timeout with one timer that, when it fires, re-arms
// itself for the remaining quiet time if bytes moved meanwhile.
func (c *conn) startIdle(d time.Duration) {
	if d <= 0 {
		return
	}
	c.touch()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = time.AfterFunc(d, func() { c.checkIdle(d) })
}

func (c *conn) checkIdle(d time.Duration) {
	quiet := time.Since(c.start) - time.Duration(c.lastActive.Load())
	if quiet >= d {
		c.abort(reasonIdle)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.finished {
		c.idle.Reset(d - quiet)
	}
}

func (c *conn) touch() { c.lastActive.Store(int64(time.Since(c.start))) }

// finish stops the timers and closes both raw connections.
func (c *conn) finish() {
	c.mu.Lock()
	c.finished = true
	c.aborted = true // a timer firing now must not rewrite the reason
	for _, tm := range []*time.Timer{c.idle, c.lifetime} {
		if tm != nil {
			tm.Stop()
		}
	}
	target, interrupt := c.target, c.interrupt
	c.mu.Unlock()
	c.closeRaw(target, interrupt)
}

// dial connects to the target under connect_timeout and writes the PROXY
// header there when the tunnel sends one; accepted is the client's TLS
// connection in server mode and verified its verified certificate (see
// sendHeader).
func (c *conn) dial(target config.Address, timeout time.Duration, accepted *tls.Conn, verified *x509.Certificate) (net.Conn, error) {
	// A context for this dial alone, which abort cancels. One kept for the
	// connection's life would keep what dialing hangs on it (a map of
	// children, a channel): 0.6 KiB of every idle connection.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !c.setInterrupt(cancel) {
		return nil, errAborted
	}
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, string(target.Network), target.Addr)
	c.setInterrupt(nil)
	if err != nil {
		return nil, err
	}
	if !c.setTarget(raw) {
		raw.Close()
		return nil, errAborted
	}
	if err := c.sendHeader(raw, accepted, verified); err != nil {
		return nil, err // finish closes raw, which setTarget recorded
	}
	return raw, nil
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
