package daemon

import (
	"github.com/passtunnel/passtunnel/config"
)

// apply carries out a built plan and returns how many tunnels failed to
// start. Removed tunnels go first, then changed ones, then added ones, so
// that an address one tunnel gives up is free for the tunnel taking it.
func (f *Fleet) apply(cfg *config.Config, plan reloadPlan, built map[string]builtTunnel) int {
	running := make(map[string]runningTunnel, len(f.tunnels))
	for _, t := range f.tunnels {
		running[t.cfg.Name] = t
	}
	for _, name := range plan.removed {
		f.retire(running[name])
		delete(running, name)
	}
	failed := 0
	for _, t := range plan.unchanged {
		rt := running[t.Name]
		rt.cfg = t // same settings; the new positions name the file as it is now
		running[t.Name] = rt
	}
	for _, t := range plan.changed {
		rt, err := f.change(running[t.Name], t, built[t.Name])
		if err != nil {
			failed++
		}
		if rt.tunnel == nil { // see reopen
			delete(running, t.Name)
			continue
		}
		running[t.Name] = rt
	}
	for _, t := range plan.added {
		rt, err := f.add(t, built[t.Name])
		if err != nil {
			failed++
			continue
		}
		running[t.Name] = rt
	}
	f.closeEmptyGroups() // after the adds: a listener a tunnel took over stays
	f.tunnels = f.tunnels[:0:0]
	for i := range cfg.Tunnels {
		if rt, ok := running[cfg.Tunnels[i].Name]; ok {
			f.tunnels = append(f.tunnels, rt)
		}
	}
	return failed
}

// change gives a running tunnel new settings. On the same address the
// listener stays and only new connections see the change; on a new address
// the new listener must work before the old one is let go. Either way, open
// connections finish on the settings they started with.
func (f *Fleet) change(rt runningTunnel, t *config.Tunnel, b builtTunnel) (runningTunnel, error) {
	if sameListener(t, rt.cfg) {
		return f.update(rt, t, b)
	}
	if t.Listen == rt.cfg.Listen {
		return f.reopen(rt, t, b)
	}
	next, err := f.bind(t, b)
	if err != nil {
		b.id.Release()
		f.log.Error("tunnel not moved; it keeps running with its old settings", "tunnel", t.Name,
			"error", err)
		return rt, err
	}
	f.serveTunnel(next)
	f.retire(rt)
	return runningTunnel{cfg: t, tunnel: next, id: b.id}, nil
}

// reopen moves a tunnel whose SNI routing was turned on or off from a
// listener of its own to a shared one or back, on the same address: the
// old listener must close first. If the new one cannot bind, the tunnel is
// gone (its zero runningTunnel says so).
func (f *Fleet) reopen(rt runningTunnel, t *config.Tunnel, b builtTunnel) (runningTunnel, error) {
	f.retire(rt)
	f.closeIfEmpty(rt.cfg.Listen.String())
	next, err := f.bind(t, b)
	if err != nil {
		b.id.Release()
		f.log.Error("tunnel not started on its new listener (SNI routing turned on or off); it stopped",
			"tunnel", t.Name, "error", err)
		return runningTunnel{}, err
	}
	f.serveTunnel(next)
	return runningTunnel{cfg: t, tunnel: next, id: b.id}, nil
}

// update changes a tunnel in place; the TLS identity it stops using goes
// back to pki, which stops watching files no other endpoint uses.
func (f *Fleet) update(rt runningTunnel, t *config.Tunnel, b builtTunnel) (runningTunnel, error) {
	err := b.id.Listening(rt.tunnel.Addr()) // acme: see bind
	if err == nil {
		err = rt.tunnel.Update(b.opts)
	}
	if err != nil {
		b.id.Release()
		f.log.Error("tunnel not changed; it keeps its old settings", "tunnel", t.Name, "error", err)
		return rt, err
	}
	if rt.id != b.id {
		rt.id.Release()
	}
	return runningTunnel{cfg: t, tunnel: rt.tunnel, id: b.id}, nil
}

func (f *Fleet) add(t *config.Tunnel, b builtTunnel) (runningTunnel, error) {
	tun, err := f.bind(t, b)
	if err != nil {
		b.id.Release()
		f.log.Error("tunnel not started", "tunnel", t.Name, "error", err)
		return runningTunnel{}, err
	}
	f.serveTunnel(tun)
	return runningTunnel{cfg: t, tunnel: tun, id: b.id}, nil
}

// retire stops a tunnel's listener now and lets its open connections drain
// in the background, within its drain_timeout.
func (f *Fleet) retire(rt runningTunnel) {
	if err := rt.tunnel.StopAccepting(); err != nil {
		f.log.Warn("closing a removed tunnel's listener", "tunnel", rt.cfg.Name, "error", err)
	}
	rt.id.Release()
	f.retiring.Add(1)
	go func() {
		defer f.retiring.Done()
		f.shutdown(rt)
	}()
}
