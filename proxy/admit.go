package proxy

import (
	"net"
)

// admit starts handling raw, or closes it at once when a rate limit, the
// PROXY protocol's trusted list or per_source_handshakes refuses it, or the
// tunnel is full, the process's descriptor budget spent or the tunnel
// stopping: a refused peer must not sit in the kernel backlog.
func (t *Tunnel) admit(raw net.Conn) {
	o := t.opts.Load()
	hold, reason := t.admission(o, raw.RemoteAddr())
	if reason != "" {
		t.refuse(raw, reason)
		return
	}
	c := newConn(t, o, raw)
	c.hs = hold
	t.mu.Lock()
	if t.stopping {
		t.mu.Unlock()
		hold.release()
		o.Descriptors.give(connDescriptors)
		t.refuse(raw, reasonShutdown)
		return
	}
	t.conns[c] = struct{}{}
	t.wg.Add(1)
	t.stats.active.Add(1)
	t.mu.Unlock()
	t.stats.accepted.Add(1)
	go c.serve()
}

// admission makes the accept loop's checks in order and names the first
// that refuses the peer, or returns the connection's count of
// per_source_handshakes and has taken its descriptors, both of which the
// connection then owns (t.release gives the descriptors back). The
// descriptors come last: a connection another check refuses takes none.
func (t *Tunnel) admission(o *Options, peer net.Addr) (handshakeHold, string) {
	if reason := t.screen(o, peer); reason != "" {
		return handshakeHold{}, reason
	}
	var hold handshakeHold
	if !acceptsHeader(o) { // else counted by the client the header names
		var reason string
		if hold, reason = t.holdHandshake(o, peer); reason != "" {
			return handshakeHold{}, reason
		}
	}
	limit := o.Limits.MaxConnections
	if limit > 0 && t.stats.active.Load() >= int64(limit) {
		hold.release()
		return handshakeHold{}, reasonMaxConns
	}
	if !o.Descriptors.take(connDescriptors) {
		hold.release()
		return handshakeHold{}, reasonFDBudget
	}
	return hold, ""
}

func (t *Tunnel) refuse(raw net.Conn, reason string) {
	t.stats.refuse(reason)
	t.warn.Warn("connection refused", "peer", addrString(raw.RemoteAddr()), "reason", reason)
	raw.Close()
}

// screen runs in the accept loop right after accept, before any byte is
// read or written: it names the reason to refuse a connection from peer at
// once, or returns "". accept_rate comes first, so that a flood costs one
// token bucket check per connection and nothing else.
func (t *Tunnel) screen(o *Options, peer net.Addr) string {
	l := t.lim.Load()
	if !l.allowAccept() {
		return reasonAcceptRate
	}
	if acceptsHeader(o) {
		if !o.trusts(peer) {
			return reasonProxyUntrusted
		}
		return "" // per_source_rate applies to the client the header names
	}
	if !l.allowSource(peer) {
		return reasonPerSourceRate
	}
	return ""
}

// countsHandshakes reports whether o's connections have an inbound
// handshake to count: TLS in server mode. In client mode the accepted side
// is cleartext, established at accept (the TLS handshake is with the
// target, and a silent client cannot stall it); its only inbound phase is
// a PROXY header, which a trusted balancer sends and which is not counted
// against the balancer (it carries every client).
func countsHandshakes(o *Options) bool {
	return o.Mode == ModeServer && o.Limits.PerSourceHandshakes > 0
}

// holdHandshake counts a connection from peer in its handshake under o's
// per_source_handshakes, or returns the reason to refuse it. Peers without
// an IP (unix sockets) are not counted.
func (t *Tunnel) holdHandshake(o *Options, peer net.Addr) (handshakeHold, string) {
	if !countsHandshakes(o) {
		return handshakeHold{}, ""
	}
	key, ok := sourceKey(peer)
	if !ok {
		return handshakeHold{}, ""
	}
	held, refused := t.handshakes.acquire(key, o.Limits.PerSourceHandshakes)
	switch {
	case refused:
		return handshakeHold{}, reasonPerSourceHandshakes
	case !held:
		return handshakeHold{}, ""
	}
	return handshakeHold{table: t.handshakes, key: key}, ""
}
