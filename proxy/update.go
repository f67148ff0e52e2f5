package proxy

import (
	"fmt"
	"os"
)

// Update replaces the tunnel's settings for the connections it accepts from
// now on. Open connections keep the settings they were accepted with, so a
// config reload never changes the TLS config, limits or target under a
// connection that is already running.
//
// A tunnel of a Group takes its new server names at once.
//
// The listener is not touched: Name and Listen must stay the same (a new
// listen address needs a new Tunnel), and the Logger given to Listen stays.
func (t *Tunnel) Update(opts Options) error {
	cur := t.opts.Load()
	if opts.Name != cur.Name {
		return fmt.Errorf("tunnel %q: update: name cannot change (to %q)", cur.Name, opts.Name)
	}
	if opts.Listen != cur.Listen {
		return fmt.Errorf("tunnel %q: update: listen address cannot change in place (%s to %s)",
			cur.Name, cur.Listen, opts.Listen)
	}
	opts.Logger = cur.Logger
	err := validate(&opts)
	if err == nil {
		err = t.memberUpdate(&opts)
	}
	if err != nil {
		return fmt.Errorf("tunnel %q: update: %w", cur.Name, err)
	}
	if mode := socketMode(opts.ListenMode); opts.Listen.Network == NetUnix && mode != socketMode(cur.ListenMode) {
		if err := os.Chmod(opts.Listen.Addr, mode); err != nil {
			return fmt.Errorf("tunnel %q: update: set the socket's mode: %w", cur.Name, err)
		}
	}
	opts.targets = t.targets.use(&opts)
	t.opts.Store(&opts)
	t.lim.Store(newLimiters(t.lim.Load(), opts.Limits))
	t.gate.setLimit(opts.hsSlots)
	t.memberUpdated()
	t.startTargetChecks(&opts)
	t.log.Info("tunnel updated", append([]any{"mode", opts.Mode, "listen", addrString(t.ln.Addr())},
		opts.targetLogArgs()...)...)
	return nil
}

// name is the tunnel's name, fixed at Listen.
func (t *Tunnel) name() string { return t.opts.Load().Name }
