package proxy

import (
	"net"
	"sync"
	"time"
)

// Refusals of a Group, before any tunnel has the connection (besides
// per_source_handshakes, max_connections, fd_budget and shutdown, and the
// client_hello_* reasons of helloReason).
const reasonUnknownSNI = "unknown_sni"

// accept runs in the group's accept loop: it bounds the ClientHellos read
// at once, overall and per source (no tunnel's max_connections or
// per_source_handshakes applies before the tunnel is known), then reads
// this one on its own goroutine.
func (g *Group) accept(raw net.Conn) {
	start := time.Now()
	r := g.cur.Load()
	var hold handshakeHold
	if key, ok := sourceKey(raw.RemoteAddr()); ok && r.perSource > 0 {
		held, refused := g.hellos.acquire(key, r.perSource)
		if refused {
			g.refuse(raw, reasonPerSourceHandshakes)
			return
		}
		if held {
			hold = handshakeHold{table: g.hellos, key: key}
		}
	}
	g.mu.Lock()
	reason := ""
	switch {
	case g.closed:
		reason = reasonShutdown
	case r.total > 0 && len(g.pending) >= r.total:
		reason = reasonMaxConns
	case !r.descriptors.take(1):
		reason = reasonFDBudget
	default:
		g.pending[raw] = struct{}{}
	}
	g.mu.Unlock()
	if reason != "" {
		hold.release()
		g.refuse(raw, reason)
		return
	}
	go g.route(raw, hold, r.descriptors, start.Add(r.timeout), start)
}

// route reads the ClientHello until deadline and hands the connection to
// the tunnel its SNI picks. The descriptor the read held from fds goes
// back once the tunnel took the connection, with descriptors of its own,
// or it was refused.
func (g *Group) route(raw net.Conn, hold handshakeHold, fds *DescriptorBudget, deadline, start time.Time) {
	defer fds.give(1)
	name, hello, err := readClientHello(raw, deadline)
	hold.release()
	g.mu.Lock()
	delete(g.pending, raw)
	g.mu.Unlock()
	if err != nil {
		g.refuse(raw, helloReason(err), "error", err)
		return
	}
	t := g.cur.Load().pick(name)
	if t == nil {
		sendUnrecognizedName(raw)
		g.refuse(raw, reasonUnknownSNI, "server_name", name)
		return
	}
	if !t.ln.(*memberListener).deliver(&routedConn{Conn: raw, hello: hello, accepted: start}) {
		g.refuse(raw, reasonShutdown, "tunnel", t.name())
	}
}

// refuse closes a connection no tunnel took, counted and logged (throttled:
// peers cause these at will).
func (g *Group) refuse(raw net.Conn, reason string, args ...any) {
	g.stats.refuse(reason)
	g.warn.Warn("connection refused", append([]any{"peer", addrString(raw.RemoteAddr()), "reason", reason}, args...)...)
	raw.Close()
}

// routedConn is a connection a Group hands to a tunnel: the socket as
// accepted, the ClientHello bytes already read from it, and when it was
// accepted (handshake_timeout counts from there).
type routedConn struct {
	net.Conn
	hello    []byte
	accepted time.Time
}

// takeRouted makes c the connection rc carries: the socket itself (the
// pump reads it directly), the ClientHello as early bytes for the
// handshake to read first, and a handshake deadline that counts the time
// the group spent.
func (c *conn) takeRouted(rc *routedConn) {
	c.peer, c.early, c.start = rc.Conn, rc.hello, rc.accepted
	if d := c.opts.Limits.HandshakeTimeout; d > 0 {
		c.hsDeadline = rc.accepted.Add(d)
	}
}

// memberListener is the listener of a tunnel of a Group: its Accept returns
// the connections the group routed to the tunnel, its Close takes the
// tunnel out of the group.
type memberListener struct {
	g     *Group
	t     *Tunnel
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (m *memberListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *memberListener) Close() error {
	m.once.Do(func() {
		close(m.done)
		m.g.leave(m.t)
	})
	return nil
}

func (m *memberListener) Addr() net.Addr { return m.g.Addr() }

// deliver hands c to the tunnel's accept loop; false if the tunnel stopped
// accepting first.
func (m *memberListener) deliver(c net.Conn) bool {
	select {
	case m.conns <- c:
		return true
	case <-m.done:
		return false
	}
}

// memberUpdate checks the settings a tunnel of a Group is updated to; the
// group's routes follow once they are stored (memberUpdated).
func (t *Tunnel) memberUpdate(o *Options) error {
	if ml, ok := t.ln.(*memberListener); ok {
		return validateMember(o, ml.g.listen)
	}
	return nil
}

// memberUpdated rebuilds the routes of t's group after t's settings
// changed. A name another tunnel still holds stays with that one until it
// lets go (a reload applies tunnel by tunnel).
func (t *Tunnel) memberUpdated() {
	if ml, ok := t.ln.(*memberListener); ok {
		ml.g.reroute()
	}
}
