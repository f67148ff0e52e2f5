package daemon

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/proxy"
)

// fleetView is what the admin endpoint reads of the fleet: a copy that the
// goroutine owning the fleet publishes after every change, so that scrapes
// and probes never read f.tunnels while a reload rewrites it.
type fleetView struct {
	tunnels []runningTunnel
	groups  map[string]*proxy.Group // shared listeners, by listen address
	// missing names the configured tunnels that do not run: a reload
	// could not start them (their address was taken).
	missing []string
}

// publish makes the current tunnels the ones the admin endpoint reports.
func (f *Fleet) publish() {
	v := &fleetView{tunnels: slices.Clone(f.tunnels), groups: maps.Clone(f.groups)}
	if f.cfg != nil {
		running := make(map[string]bool, len(f.tunnels))
		for _, t := range f.tunnels {
			running[t.cfg.Name] = true
		}
		for _, t := range f.cfg.Tunnels {
			if !running[t.Name] {
				v.missing = append(v.missing, t.Name)
			}
		}
	}
	f.view.Store(v)
}

// notReady lists why the process should not get new connections now; an
// empty list means ready: every configured tunnel listens, its listener
// accepts, it has a certificate it can present and that has not expired,
// with target_check at least one of its targets is up, and no drain runs.
func (f *Fleet) notReady(now time.Time) []string {
	if f.draining.Load() {
		return []string{"draining: no new connections are accepted"}
	}
	v := f.view.Load()
	if v == nil {
		return []string{"starting: tunnels are not listening yet"}
	}
	var out []string
	for _, name := range v.missing {
		out = append(out, fmt.Sprintf("tunnel %q: not listening: the last config reload could not start it (see the log)", name))
	}
	for _, t := range v.tunnels {
		if err := t.tunnel.AcceptFailing(); err != nil {
			out = append(out, fmt.Sprintf("tunnel %q: listener failing: %v", t.cfg.Name, err))
		}
		if line := targetsDown(t); line != "" {
			out = append(out, line)
		}
		exp, err := t.id.Expiry()
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("tunnel %q: no certificate to present: %v", t.cfg.Name, err))
		case !exp.IsZero() && !now.Before(exp):
			out = append(out, fmt.Sprintf("tunnel %q: certificate expired at %s", t.cfg.Name, exp.UTC().Format(time.RFC3339)))
		}
	}
	return out
}

func problemsText(problems []string) string {
	return "not ready:\n" + strings.Join(problems, "\n") + "\n"
}

// targetsDown is the line of a tunnel with target_check whose every
// target is down, naming each and why; "" otherwise. Without checks a
// target is down only for a backoff after a failed connection, too brief
// and too chancy to take the process out of service for.
func targetsDown(t runningTunnel) string {
	if t.cfg.TargetCheck <= 0 {
		return ""
	}
	targets := t.tunnel.Stats().Targets
	why := make([]string, 0, len(targets))
	for _, ts := range targets {
		if ts.Up {
			return ""
		}
		reason := "in backoff after a failed dial"
		if ts.CheckErr != nil {
			reason = ts.CheckErr.Error()
		}
		why = append(why, fmt.Sprintf("%s (%s)", ts.Target, reason))
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf("tunnel %q: every target is down: %s", t.cfg.Name, strings.Join(why, "; "))
}
