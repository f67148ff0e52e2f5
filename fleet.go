package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"
)

// wait runs reloads until a signal asks to stop, then drains every tunnel.
// Reloads run here, one at a time, and never during the drain.
func (f *fleet) wait() error {
	defer signal.Stop(f.sigs)
	defer f.cancel()
	for {
		select {
		case err := <-f.done:
			if err == nil {
				continue // a tunnel a reload removed or moved
			}
			// An accept loop only ends by itself on a listener failure.
			closeAll(f.tunnels)
			return fmt.Errorf("a tunnel stopped: %w", err)
		case <-f.watch.changes():
			f.reload("file change")
		case sig := <-f.sigs:
			if sig == syscall.SIGHUP {
				f.reload("SIGHUP")
				continue
			}
			f.log.Info("signal received: draining", "signal", sig.String())
			f.draining.Store(true) // /readyz turns 503 while connections finish
			f.drain()
			f.log.Info("drained, exiting")
			return nil
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
func (f *fleet) drain() {
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
func (f *fleet) shutdown(t runningTunnel) {
	ctx, cancel := context.WithTimeout(f.ctx, t.cfg.Limits.DrainTimeout)
	defer cancel()
	if err := t.tunnel.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		f.log.Warn("drain ended with an error", "tunnel", t.cfg.Name, "error", err)
	}
}
