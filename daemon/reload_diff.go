package daemon

import (
	"maps"
	"reflect"
	"slices"

	"github.com/passtunnel/passtunnel/config"
)

// reloadPlan is what a new config changes in the running set of tunnels.
// Tunnels are matched by name: a renamed tunnel is one removed and one added.
type reloadPlan struct {
	added     []*config.Tunnel // only in the new config
	changed   []*config.Tunnel // in both with other settings; the new settings
	unchanged []*config.Tunnel // in both with the same settings; the new entry
	removed   []string         // only in the running set
}

// planReload compares the running tunnels' configs with the new config.
func planReload(running []*config.Tunnel, next []config.Tunnel) reloadPlan {
	old := make(map[string]*config.Tunnel, len(running))
	for _, t := range running {
		old[t.Name] = t
	}
	var p reloadPlan
	for i := range next {
		t := &next[i]
		cur, ok := old[t.Name]
		switch {
		case !ok:
			p.added = append(p.added, t)
		case sameTunnel(cur, t):
			p.unchanged = append(p.unchanged, t)
		default:
			p.changed = append(p.changed, t)
		}
		delete(old, t.Name)
	}
	p.removed = slices.Sorted(maps.Keys(old))
	return p
}

// sameTunnel reports whether two tunnel configs mean the same thing. Where
// each setting was written is not part of the meaning: adding a comment
// above a tunnel must not restart it. Secrets compare by value, so a new
// passphrase in a file() the config reads is a change.
//
// Only the config is compared, not the content of certificate files it
// names: pki reloads those by itself.
func sameTunnel(a, b *config.Tunnel) bool {
	return reflect.DeepEqual(a.WithoutPositions(), b.WithoutPositions())
}
