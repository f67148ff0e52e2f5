// Package proxy runs passtunnel's tunnels: it binds the listen address
// (listen.go), accepts (accept.go) and admits connections under the
// tunnel's limits (admit*.go), reads a PROXY header from a trusted
// balancer (proxyproto.go), performs the TLS handshake on the side that
// carries TLS (handshake*.go), dials the target (dial.go), pumps bytes both
// ways with half-close (pump.go, the engine in internal/pump), and drains
// on shutdown (drain.go). It receives a ready *tls.Config and hooks for the
// verdict on a peer, and knows nothing about where certificates come from
// nor about the config file: its options are its own types.
package proxy

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Tunnel is a bound listener and the connections it carries.
type Tunnel struct {
	// opts holds the settings new connections start with; Update swaps it,
	// and each connection reads it once at accept (see conn.opts).
	opts atomic.Pointer[Options]
	// acceptor holds the listener (for a tunnel of a Group, the group's
	// hand-over of the connections SNI routed to it), its accept loop and
	// the logs.
	acceptor
	stats counters
	lim   atomic.Pointer[limiters] // accept_rate and per_source_rate state
	// handshakes counts per_source_handshakes; unlike lim it is never
	// swapped, so that connections in flight across a reload give back
	// exactly what they took.
	handshakes *handshakeTable
	// gate bounds the handshakes computing at once (max_handshakes);
	// never swapped either.
	gate handshakeGate
	// targets keeps each target's backoff and counts across reloads.
	targets *targetTable
	// markDenied is set once the kernel refused Transparent.Mark.
	markDenied atomic.Bool
	// checkWake tells the target check loop, once started (checking,
	// under mu), that the options changed (see targets_check.go).
	checkWake chan struct{}

	stopOnce sync.Once
	stopErr  error

	mu       sync.Mutex
	conns    map[*conn]struct{}
	stopping bool // set before wg.Wait may run: no wg.Add after it
	checking bool // the target check loop runs
	wg       sync.WaitGroup
}

// Listen validates opts and binds the listen address.
func Listen(opts Options) (*Tunnel, error) {
	if err := validate(&opts); err != nil {
		if opts.Listener != nil {
			_ = opts.Listener.Close()
		}
		return nil, fmt.Errorf("tunnel %q: %w", opts.Name, err)
	}
	ln, err := listenFor(&opts)
	if err != nil {
		return nil, fmt.Errorf("tunnel %q: listen on %s: %w", opts.Name, opts.Listen, err)
	}
	t := newTunnel(opts, ln)
	t.log.Info("tunnel listening", append([]any{"mode", opts.Mode, "listen", addrString(ln.Addr())},
		opts.targetLogArgs()...)...)
	return t, nil
}

// newTunnel makes the tunnel of validated opts on ln, not serving yet.
func newTunnel(opts Options, ln net.Listener) *Tunnel {
	log := opts.Logger.With("tunnel", opts.Name)
	t := &Tunnel{
		acceptor: acceptor{ln: ln, log: log, warn: newThrottledLogger(log, warnRate, warnBurst),
			stopped: make(chan struct{})},
		handshakes: newHandshakeTable(maxSources),
		targets:    newTargetTable(),
		conns:      make(map[*conn]struct{}),
		checkWake:  make(chan struct{}, 1),
	}
	t.errs = &t.stats.acceptErrors
	opts.targets = t.targets.use(&opts)
	t.opts.Store(&opts)
	t.lim.Store(newLimiters(nil, opts.Limits))
	t.gate.setLimit(opts.hsSlots)
	t.startTargetChecks(&opts)
	return t
}

// Addr is the bound address, with the real port when Listen asked for 0.
func (t *Tunnel) Addr() net.Addr { return t.ln.Addr() }

// Stats returns a snapshot of the tunnel's counters.
func (t *Tunnel) Stats() Stats {
	s := t.stats.snapshot()
	s.Targets = t.opts.Load().targets.stats(time.Now())
	s.HandshakesWaiting = uint64(max(t.gate.waiting.Load(), 0))
	return s
}

// release is the last thing a connection goroutine does.
func (t *Tunnel) release(c *conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	t.stats.active.Add(-1)
	c.opts.Descriptors.give(connDescriptors) // taken by admission, from the budget of the same options
	t.wg.Done()
}
