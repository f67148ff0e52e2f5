package daemon

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

// Tunnels routed by SNI (server_names, sni_default) share one listener per
// listen address as written: a proxy.Group, which a reload keeps while any
// tunnel of the new config still uses it. Only the goroutine that owns the
// fleet touches f.groups.

// listenTunnel binds a tunnel: on a listener of its own, or as one of the
// group of its listen address, which it starts when it is the first.
func (f *Fleet) listenTunnel(t *config.Tunnel, opts proxy.Options) (*proxy.Tunnel, error) {
	if !t.SNIRouted() {
		if err := f.inherit(t, &opts); err != nil {
			return nil, err
		}
		return proxy.Listen(opts)
	}
	key := t.Listen.String()
	g := f.groups[key]
	if g == nil {
		var err error
		if g, err = f.listenGroup(t, opts); err != nil {
			return nil, err
		}
		f.groups[key] = g
		go func() {
			if err := g.Serve(); err != nil {
				f.log.Error("accept loop ended", "listen", key, "error", err)
			}
		}()
	}
	tun, err := g.Join(opts)
	if err != nil {
		f.closeIfEmpty(key)
		return nil, err
	}
	return tun, nil
}

// listenGroup binds the shared listener of t's listen address, or takes
// the socket systemd passed for it.
func (f *Fleet) listenGroup(t *config.Tunnel, opts proxy.Options) (*proxy.Group, error) {
	if err := f.inherit(t, &opts); err != nil {
		return nil, err
	}
	if opts.Listener != nil {
		return proxy.ListenGroupOn(opts.Listener, opts.Listen, f.log), nil
	}
	g, err := proxy.ListenGroup(opts.Listen, opts.ListenMode, f.log)
	if err != nil {
		return nil, fmt.Errorf("tunnel %q: %w", t.Name, err)
	}
	return g, nil
}

// closeEmptyGroups closes the listeners no tunnel routes to any more: the
// last one left in a reload (once the reload is applied, so that a tunnel
// renamed or moved out and in again keeps the listener), or failed to start.
func (f *Fleet) closeEmptyGroups() {
	for key := range f.groups {
		f.closeIfEmpty(key)
	}
}

// closeIfEmpty closes the shared listener of key if no tunnel uses it.
func (f *Fleet) closeIfEmpty(key string) {
	g := f.groups[key]
	if g == nil || g.Members() > 0 {
		return
	}
	if err := g.Close(); err != nil {
		f.log.Warn("closing an unused shared listener", "listen", key, "error", err)
	}
	delete(f.groups, key)
}

// closeGroups closes every shared listener: the process drains or stops.
func (f *Fleet) closeGroups() {
	for key, g := range f.groups {
		_ = g.Close()
		delete(f.groups, key)
	}
}

// sameListener reports whether a changed tunnel keeps its listener: the
// same address, and SNI routing neither turned on nor off.
func sameListener(a, b *config.Tunnel) bool {
	return a.Listen == b.Listen && a.SNIRouted() == b.SNIRouted()
}

// groupSample is what a scrape reads of one shared listener.
type groupSample struct {
	listen string
	stats  proxy.Stats
}

// groupSamples reads the shared listeners published with the fleet's view.
func (f *Fleet) groupSamples() []groupSample {
	v := f.view.Load()
	if v == nil {
		return nil
	}
	out := make([]groupSample, 0, len(v.groups))
	for _, key := range slices.Sorted(maps.Keys(v.groups)) {
		out = append(out, groupSample{listen: key, stats: v.groups[key].Stats()})
	}
	return out
}

// sniRefusedDesc is the metric of the connections a shared listener closed
// before any tunnel had them.
var sniRefusedDesc = prometheus.NewDesc("passtunnel_sni_refused_total",
	"Connections a listener shared by SNI closed before any tunnel had them, by reason "+
		"(unknown_sni, client_hello_timeout, per_source_handshakes, ...).", []string{"listen", "reason"}, nil)

func collectGroups(ch chan<- prometheus.Metric, groups []groupSample) {
	for _, g := range groups {
		for _, reason := range slices.Sorted(maps.Keys(g.stats.Refused)) {
			ch <- prometheus.MustNewConstMetric(sniRefusedDesc, prometheus.CounterValue,
				float64(g.stats.Refused[reason]), g.listen, reason)
		}
	}
}

// writeSNIPlan shows check's reader the names that pick the tunnel.
func writeSNIPlan(b *strings.Builder, t *config.Tunnel) {
	if !t.SNIRouted() {
		return
	}
	names := "no names"
	if len(t.ServerNames) > 0 {
		names = strings.Join(t.ServerNames, ", ")
	}
	if t.SNIDefault {
		names += "; and every other name or none (sni_default)"
	}
	fmt.Fprintf(b, "  %-9s %s\n", "sni", names)
}
