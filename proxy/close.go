package proxy

import (
	"errors"
	"net"
	"time"

	"github.com/passtunnel/passtunnel/proxy/internal/sock"
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
	// reasonCloseTimeout: one side closed and the other direction did not
	// finish within close_timeout; reasonWriteStalled: a write made no
	// progress within write_timeout (see pump.ErrWriteStalled).
	reasonCloseTimeout = "close_timeout"
	reasonWriteStalled = "write_stalled"
)

// abort closes both sides from outside the connection's goroutines. The
// first call decides the reason; an empty one (the pump unblocking itself
// after an error) leaves the reason to that error.
func (c *conn) abort(reason string) { c.abortWith(reason, false) }

// abortWith is abort that, with reset, also resets the accepted peer (see
// resetPeer) when this call is the first.
func (c *conn) abortWith(reason string, reset bool) {
	c.mu.Lock()
	if !c.aborted {
		c.reason, c.resetPeer = reason, reset
	}
	c.aborted = true
	target, interrupt, reset := c.target, c.interrupt, c.resetPeer
	c.mu.Unlock()
	c.closeRaw(target, interrupt, reset)
}

// markResetPeer asks that the accepted peer be reset when the connection
// ends (a target that could not be reached). Nothing changes once abort
// closed the connection: its reason stands.
func (c *conn) markResetPeer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.aborted {
		c.resetPeer = true
	}
}

// peerWasReset reports whether closing the peer sent it a reset.
func (c *conn) peerWasReset() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resetPeer
}

// closeRaw calls interrupt, if any, and then closes the client side and
// target, both as read under mu by the caller. Raw connections, never
// *tls.Conn: tls.Conn.Close would try to send close_notify and could block
// behind a stuck Write.
func (c *conn) closeRaw(target net.Conn, interrupt func(), resetPeer bool) {
	if interrupt != nil {
		interrupt()
	}
	if resetPeer {
		sock.ResetOnClose(c.peer)
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

// startCloseWait arms close_timeout once one direction has ended: a peer
// that closed is gone, and the other side, which may never read or write
// again, must not hold the connection for ever.
func (c *conn) startCloseWait(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.finished {
		c.closeWait = time.AfterFunc(d, func() { c.abort(reasonCloseTimeout) })
	}
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
	for _, tm := range []*time.Timer{c.idle, c.lifetime, c.closeWait} {
		if tm != nil {
			tm.Stop()
		}
	}
	target, interrupt, reset := c.target, c.interrupt, c.resetPeer
	c.mu.Unlock()
	c.closeRaw(target, interrupt, reset)
}
