package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// reloader rotates both tunnels' certificates and reloads the config
// with SIGHUP on every tick, while the load runs: neither may break a
// transfer.
type reloader struct {
	daemon  *daemon
	cfg     *daemonConfig
	cfgPath string
	ids     *identities
	load    *load
	every   time.Duration
	ticks   atomic.Int64 // reloads done
}

// run ticks until ctx is done. An error is the soak's own (a file it
// could not write) or the daemon's death, and ends the run.
func (r *reloader) run(ctx context.Context) error {
	for {
		sleepCtx(ctx, r.every)
		if ctx.Err() != nil {
			return nil
		}
		if r.daemon.exited() {
			return fmt.Errorf("passtunnel exited during the load (%v): %s", r.daemon.waitErr, r.daemon.logTail())
		}
		if err := r.tick(); err != nil {
			return err
		}
	}
}

// tick swaps in new certificates, writes the config with its next
// generation (a changed setting on every tunnel) and sends SIGHUP. The
// daemon sees the config file change too and reloads on its own; both
// paths are exercised.
func (r *reloader) tick() error {
	r.load.lastReload.Store(time.Now().UnixNano())
	r.load.reloads.Add(1)
	if err := r.ids.rotate(); err != nil {
		return err
	}
	r.cfg.generation++
	if err := r.cfg.write(r.cfgPath); err != nil {
		return err
	}
	if err := r.daemon.reload(); err != nil {
		return err
	}
	r.ticks.Add(1)
	return nil
}
