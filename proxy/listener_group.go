package proxy

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
)

// Group is one listener that several server tunnels share: it reads each
// connection's ClientHello, picks the tunnel by the SNI it names (see
// routeTable.pick) and hands the connection, with the bytes read, to that
// tunnel, which admits it under its own limits and runs its own handshake
// with its own certificate, trust and target. Tunnels join and leave
// without the listener closing; it closes with Close only.
//
// A connection the group refuses (unknown name and no default, a
// ClientHello that does not arrive complete and valid in time or within
// maxClientHelloBytes, too many ClientHellos read at once) belongs to no
// tunnel: it is counted in the group's Stats.Refused.
type Group struct {
	acceptor
	listen Address
	stats  counters

	// cur is the routes new connections take: replaced whole, under mu.
	cur atomic.Pointer[routeTable]
	// hellos counts the ClientHellos being read per source, under the
	// table's perSource; unlike the table it is never replaced (see
	// Tunnel.handshakes).
	hellos *handshakeTable

	mu      sync.Mutex
	members []*Tunnel
	pending map[net.Conn]struct{} // ClientHellos being read; Close cuts them
	closed  bool
}

// ListenGroup binds addr (a unix socket with mode, see Options.ListenMode)
// for tunnels to Join.
func ListenGroup(addr Address, mode fs.FileMode, logger *slog.Logger) (*Group, error) {
	if logger == nil {
		logger = slog.Default()
	}
	ln, err := listen(addr, mode)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ListenGroupOn(ln, addr, logger), nil
}

// ListenGroupOn makes a group of a socket already bound (see
// Options.Listener), which addr names; Close closes it. Tunnels join with
// Listen set to addr.
func ListenGroupOn(ln net.Listener, addr Address, logger *slog.Logger) *Group {
	if logger == nil {
		logger = slog.Default()
	}
	log := logger.With("listen", addrString(ln.Addr()))
	g := &Group{
		acceptor: acceptor{ln: ln, log: log, warn: newThrottledLogger(log, warnRate, warnBurst),
			stopped: make(chan struct{})},
		listen:  addr,
		hellos:  newHandshakeTable(maxSources),
		pending: make(map[net.Conn]struct{}),
	}
	g.errs = &g.stats.acceptErrors
	g.cur.Store(buildRoutes(nil))
	return g
}

// Addr is the bound address.
func (g *Group) Addr() net.Addr { return g.ln.Addr() }

// Stats are the group's own counters: its refusals and failed accepts.
func (g *Group) Stats() Stats { return g.stats.snapshot() }

// Serve accepts until Close, then returns nil; see Tunnel.Serve.
func (g *Group) Serve() error { return g.serve(g.accept) }

// Join makes a tunnel of opts that gets the connections whose SNI its
// ServerNames match (or, with SNIDefault, those no tunnel's names match).
// It must be served (Tunnel.Serve) like any tunnel; StopAccepting,
// Shutdown or Close take it out of the group, and its open connections
// finish as they would on a listener of their own.
func (g *Group) Join(opts Options) (*Tunnel, error) {
	err := validate(&opts)
	if err == nil {
		err = validateMember(&opts, g.listen)
	}
	if err != nil {
		return nil, fmt.Errorf("tunnel %q: %w", opts.Name, err)
	}
	ml := &memberListener{g: g, conns: make(chan net.Conn), done: make(chan struct{})}
	t := newTunnel(opts, ml)
	ml.t = t
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, fmt.Errorf("tunnel %q: the listener on %s is closed", opts.Name, addrString(g.Addr()))
	}
	if c := g.cur.Load().claims(&opts); c != "" {
		return nil, fmt.Errorf("tunnel %q: on %s, %s", opts.Name, addrString(g.Addr()), c)
	}
	g.members = append(g.members, t)
	g.rerouteLocked()
	t.log.Info("tunnel listening", append([]any{"mode", opts.Mode, "listen", addrString(g.Addr())},
		append(opts.targetLogArgs(), "server_names", opts.ServerNames, "sni_default", opts.SNIDefault)...)...)
	return t, nil
}

// Members is how many tunnels the group routes to now.
func (g *Group) Members() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.members)
}

// leave takes t out of the routes: new connections no longer reach it.
func (g *Group) leave(t *Tunnel) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.members, t); i >= 0 {
		g.members = slices.Delete(g.members, i, i+1)
		g.rerouteLocked()
	}
}

// reroute rebuilds the routes after a member's settings changed.
func (g *Group) reroute() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rerouteLocked()
}

func (g *Group) rerouteLocked() { g.cur.Store(buildRoutes(g.members)) }

// Close closes the listener and cuts the ClientHellos being read. Tunnels
// that joined keep their open connections until they are shut down
// themselves.
func (g *Group) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	close(g.stopped)
	cut := make([]net.Conn, 0, len(g.pending))
	for c := range g.pending {
		cut = append(cut, c)
	}
	g.mu.Unlock()
	err := g.ln.Close()
	for _, c := range cut {
		c.Close()
	}
	g.warn.flush()
	if err != nil {
		return fmt.Errorf("close the listener on %s: %w", g.listen, err)
	}
	return nil
}
