package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
	"github.com/passtunnel/passtunnel/proxy"
)

// Fleet is the set of running tunnels of one process.
type Fleet struct {
	log     *slog.Logger
	level   *slog.LevelVar
	pki     *pki.Manager
	tunnels []runningTunnel
	// groups are the listeners tunnels routed by SNI share, by listen
	// address (see listeners.go).
	groups map[string]*proxy.Group
	sigs   chan os.Signal
	notify notifier // systemd's Type=notify; no-ops without it
	// sockets are the listeners systemd passed, by name (activation.go).
	sockets inheritedSockets
	// descriptors is the process's descriptor budget, which every tunnel
	// built gets (see build); nil: none.
	descriptors *proxy.DescriptorBudget
	// trim returns memory to the system (memory_trim.go); Serve runs it.
	trim *memoryTrimmer

	// Reload state. cfg is the config last applied (nil when the caller
	// starts tunnels by hand, as demo does); format is the log format in
	// use, which only a restart changes.
	cfg     *config.Config
	format  string
	loader  config.Loader // what loaded cfg, and loads it again
	version string        // the build's, for passtunnel_build_info
	watch   *fileWatcher  // nil: no config file, or it cannot be watched
	sandbox *sandbox      // nil: not restricted (--no-sandbox, no Landlock)
	reloads reloadStats

	// The admin endpoint (nil in demo) reads view and draining.
	admin    *admin
	view     atomic.Pointer[fleetView]
	draining atomic.Bool

	// Tunnels a reload removed drain in the background; ctx ends their
	// drains early (a second SIGTERM), and the final drain waits for them.
	ctx      context.Context
	cancel   context.CancelFunc
	retiring sync.WaitGroup
}

type runningTunnel struct {
	cfg    *config.Tunnel
	tunnel *proxy.Tunnel
	id     *pki.Endpoint // the TLS identity the tunnel serves with
}

func newFleet(log *slog.Logger, level *slog.LevelVar, stateDir string) (*Fleet, error) {
	m, err := newPKI(log, stateDir)
	if err != nil {
		return nil, err
	}
	f := &Fleet{log: log, level: level, pki: m, sigs: make(chan os.Signal, 2), groups: map[string]*proxy.Group{},
		notify: newNotifier(log), descriptors: descriptorBudget(log), trim: newMemoryTrimmer()}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	// Subscribed before any tunnel listens, so a signal that arrives while
	// tunnels start is not lost (or fatal by default).
	signal.Notify(f.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	return f, nil
}

// start builds every tunnel of cfg before binding any, so that a bad
// certificate in one tunnel stops the start instead of half of it running;
// then it listens and serves them all.
func (f *Fleet) start(cfg *config.Config) error {
	builds := make([]builtTunnel, len(cfg.Tunnels))
	for i := range cfg.Tunnels {
		b, err := f.build(&cfg.Tunnels[i])
		if err != nil {
			return err
		}
		builds[i] = b
	}
	var started []runningTunnel
	for i, b := range builds {
		// Bound, not yet serving (see bind).
		t, err := f.bind(&cfg.Tunnels[i], b)
		if err != nil {
			closeAll(started)
			f.closeGroups()
			return err
		}
		started = append(started, runningTunnel{cfg: &cfg.Tunnels[i], tunnel: t, id: b.id})
	}
	for _, t := range started {
		f.serveTunnel(t.tunnel)
	}
	f.tunnels = append(f.tunnels, started...)
	f.publish()
	return nil
}

// build is buildTunnel for this process: with the descriptor budget its
// tunnels share, the same across reloads.
func (f *Fleet) build(t *config.Tunnel) (builtTunnel, error) {
	b, err := buildTunnel(f.pki, t, f.log)
	b.opts.Descriptors = f.descriptors
	return b, err
}

// serveTunnel runs t's accept loop in the background; nothing waits for it.
// Serve retries failed accepts itself, as one tunnel's broken listener must
// leave the others running, and returns once a reload, the drain or Close
// stopped the tunnel.
func (f *Fleet) serveTunnel(t *proxy.Tunnel) {
	go func() {
		if err := t.Serve(); err != nil {
			f.log.Error("accept loop ended", "error", err)
		}
	}()
}

// wait runs reloads until a signal asks to stop, then drains every tunnel.
// Reloads run here, one at a time, and never during the drain.
func (f *Fleet) wait() {
	defer signal.Stop(f.sigs)
	defer f.cancel()
	for {
		select {
		case <-f.watch.changes():
			f.reload("file change")
		case <-f.notify.Watchdog():
			f.notify.Alive()
		case sig := <-f.sigs:
			if sig == syscall.SIGHUP {
				f.reload("SIGHUP")
				continue
			}
			f.log.Info("signal received: draining", "signal", sig.String())
			f.notify.Stopping()
			f.draining.Store(true) // /readyz turns 503 while connections finish
			f.drain()
			f.log.Info("drained, exiting")
			return
		}
	}
}

func closeAll(tunnels []runningTunnel) {
	for _, t := range tunnels {
		_ = t.tunnel.Close()
	}
}

// drain shuts every tunnel down at once, each bounded by its own
// drain_timeout, and waits for the tunnels a reload removed to finish
// draining too. A second SIGTERM/SIGINT cuts the drain short, as an operator
// pressing Ctrl-C twice expects.
func (f *Fleet) drain() {
	f.closeGroups() // no new connection is routed; the tunnels stop accepting below
	for _, t := range f.tunnels {
		f.retiring.Add(1)
		go func() {
			defer f.retiring.Done()
			f.shutdown(t)
		}()
	}
	finished := make(chan struct{})
	go func() { f.retiring.Wait(); close(finished) }()
	for {
		select {
		case <-finished:
			return
		case <-f.notify.Watchdog():
			f.notify.Alive() // systemd stops watching once STOPPING=1; older ones may not
		case sig := <-f.sigs:
			if sig == syscall.SIGHUP {
				f.log.Info("SIGHUP ignored: draining")
				continue
			}
			f.log.Warn("second signal: closing open connections now", "signal", sig.String())
			f.cancel()
		}
	}
}

// shutdown drains one tunnel within its drain_timeout, or until f.ctx ends.
func (f *Fleet) shutdown(t runningTunnel) {
	ctx, cancel := context.WithTimeout(f.ctx, t.cfg.Limits.DrainTimeout)
	defer cancel()
	if err := t.tunnel.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		f.log.Warn("drain ended with an error", "tunnel", t.cfg.Name, "error", err)
	}
}
