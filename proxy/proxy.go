// Package proxy runs passtunnel's tunnels: it binds the listen address,
// admits connections under the tunnel's limits, performs the TLS handshake on
// the side that carries TLS, dials the target, pumps bytes both ways with
// half-close, and drains on shutdown. It receives a ready *tls.Config and
// knows nothing about where certificates come from.
package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/passtunnel/passtunnel/config"
)

// Options describe one tunnel.
type Options struct {
	Name string
	// Mode server: TLS in, cleartext out. Mode client: cleartext in, TLS out.
	Mode config.Mode
	// Listen is tcp host:port (port 0 picks one; see Tunnel.Addr) or a unix path.
	Listen config.Address
	// ListenMode is the mode of a unix Listen socket, exactly, whatever the
	// umask; 0 means config.DefaultListenMode.
	ListenMode fs.FileMode
	Target     config.Address
	Limits     config.Limits
	// ProxyProtocol is read from trusted peers before anything else
	// (Accept) and written to the target before any other byte (Send).
	ProxyProtocol config.ProxyProtocol
	// TLS is the terminating config in server mode and the dialing config
	// (ServerName already set) in client mode.
	TLS *tls.Config
	// ConnWarning, if set, is logged at WARN on every connection (for
	// example when the target's certificate is not verified).
	ConnWarning string
	// HandshakeHint, if set, is added to handshake failures about
	// certificates: what the operator should compare on both ends (for a
	// passphrase tunnel, the passphrase and the cluster).
	HandshakeHint string
	// Peer is the verdict on a finished handshake: the certificate the
	// tunnel's verification accepted (pki's Endpoint.Peer), nil when the
	// peer is not verified (it showed none and need not, or the tunnel
	// verifies nothing). It is the only source of the peer's identity: the
	// closing line's peer_subject, the PROXY v2 TLVs and AfterHandshake
	// read what it returns, never the certificates the peer sent. Its
	// error fails the handshake. nil: the leaf of the chain crypto/tls
	// verified itself, if it did (see verifiedByTLS).
	Peer func(tls.ConnectionState) (*x509.Certificate, error)
	// AfterHandshake (the shared-secret proof) runs after each handshake
	// and its verdict, within handshake_timeout, before any application
	// byte or dial, with the verified peer (nil: none). Its error is a
	// handshake failure, counted by its HandshakeReason().
	AfterHandshake func(tc *tls.Conn, peer *x509.Certificate) error
	// MaxHandshakeBytes bounds what the TLS peer may send before its
	// handshake completes (0: DefaultMaxHandshakeBytes): see budgeted.
	MaxHandshakeBytes int
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	trusted []netip.Prefix // ProxyProtocol.Trusted, parsed by validate
}

// Tunnel is a bound listener and the connections it carries.
type Tunnel struct {
	// opts holds the settings new connections start with; Update swaps it,
	// and each connection reads it once at accept (see conn.opts).
	opts  atomic.Pointer[Options]
	ln    net.Listener
	log   *slog.Logger
	warn  *throttledLogger
	stats counters
	lim   atomic.Pointer[limiters] // accept_rate and per_source_rate state
	// handshakes counts per_source_handshakes; unlike lim it is never
	// swapped, so that connections in flight across a reload give back
	// exactly what they took.
	handshakes *handshakeTable
	// failing is what Serve last published about accept failures; nil
	// once an accept succeeded (see AcceptFailing).
	failing atomic.Pointer[acceptFailure]

	stopOnce sync.Once
	stopped  chan struct{} // closed when the listener is closed
	stopErr  error

	mu       sync.Mutex
	conns    map[*conn]struct{}
	stopping bool // set before wg.Wait may run: no wg.Add after it
	wg       sync.WaitGroup
}

// Listen validates opts and binds the listen address.
func Listen(opts Options) (*Tunnel, error) {
	if err := validate(&opts); err != nil {
		return nil, fmt.Errorf("tunnel %q: %w", opts.Name, err)
	}
	ln, err := listen(opts.Listen, opts.ListenMode)
	if err != nil {
		return nil, fmt.Errorf("tunnel %q: listen on %s: %w", opts.Name, opts.Listen, err)
	}
	log := opts.Logger.With("tunnel", opts.Name)
	t := &Tunnel{
		ln:         ln,
		log:        log,
		warn:       newThrottledLogger(log, warnRate, warnBurst),
		handshakes: newHandshakeTable(maxSources),
		stopped:    make(chan struct{}),
		conns:      make(map[*conn]struct{}),
	}
	t.opts.Store(&opts)
	t.lim.Store(newLimiters(nil, opts.Limits))
	log.Info("tunnel listening", "mode", opts.Mode, "listen", addrString(ln.Addr()),
		"target", opts.Target.String())
	return t, nil
}

// Addr is the bound address, with the real port when Listen asked for 0.
func (t *Tunnel) Addr() net.Addr { return t.ln.Addr() }

// Stats returns a snapshot of the tunnel's counters.
func (t *Tunnel) Stats() Stats { return t.stats.snapshot() }

// Serve accepts connections until Shutdown or Close, then returns nil. An
// accept that fails, for whatever reason, is retried after a pause (see
// acceptFailed): one tunnel's listener in trouble must not end the process,
// and with it every other tunnel and connection.
func (t *Tunnel) Serve() error {
	var fails acceptFailures
	for {
		raw, err := t.ln.Accept()
		if err == nil {
			t.acceptResumed(&fails)
			t.admit(raw)
			continue
		}
		if t.isStopped() {
			return nil
		}
		if !t.pause(t.acceptFailed(err, &fails)) {
			return nil
		}
	}
}

// admit starts handling raw, or closes it at once when a rate limit, the
// PROXY protocol's trusted list or per_source_handshakes refuses it, or the
// tunnel is full or stopping: a refused peer must not sit in the kernel
// backlog.
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
// per_source_handshakes, which the connection then owns.
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
	return hold, ""
}

func (t *Tunnel) refuse(raw net.Conn, reason string) {
	t.stats.refuse(reason)
	t.warn.Warn("connection refused", "peer", addrString(raw.RemoteAddr()), "reason", reason)
	raw.Close()
}

// release is the last thing a connection goroutine does.
func (t *Tunnel) release(c *conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	t.stats.active.Add(-1)
	t.wg.Done()
}

// Shutdown stops accepting at once and lets open connections finish. When
// ctx is done the remaining ones are closed with reason drain_timeout and an
// error is returned. It returns after every connection goroutine has exited.
func (t *Tunnel) Shutdown(ctx context.Context) error {
	t.stop()
	done := t.drained()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	n := t.abortAll(reasonDrain)
	<-done
	return fmt.Errorf("tunnel %q: drain: closed %d connections: %w", t.name(), n, ctx.Err())
}

// Close stops accepting and closes every connection now, then waits for
// their goroutines.
func (t *Tunnel) Close() error {
	err := t.stop()
	t.abortAll(reasonShutdown)
	<-t.drained()
	return err
}

// stop closes the listener once and forbids new registrations.
func (t *Tunnel) stop() error {
	t.stopOnce.Do(func() {
		t.mu.Lock()
		t.stopping = true
		t.mu.Unlock()
		close(t.stopped)
		if err := t.ln.Close(); err != nil {
			t.stopErr = fmt.Errorf("tunnel %q: close listener: %w", t.name(), err)
		}
		t.warn.flush()
	})
	return t.stopErr
}

func (t *Tunnel) isStopped() bool {
	select {
	case <-t.stopped:
		return true
	default:
		return false
	}
}

// drained is closed once every connection goroutine has exited. Call it only
// after stop, so that no wg.Add can race with the Wait.
func (t *Tunnel) drained() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	return done
}

func (t *Tunnel) abortAll(reason string) int {
	t.mu.Lock()
	list := make([]*conn, 0, len(t.conns))
	for c := range t.conns {
		list = append(list, c)
	}
	t.mu.Unlock()
	for _, c := range list {
		c.abort(reason)
	}
	return len(list)
}
