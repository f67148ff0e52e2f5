package daemon

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

// transparentOptions maps transparent mode's settings to proxy's. Only a
// transparent tunnel and a transparent_source one carry the mark: other
// tunnels' connections are never redirected, and SO_MARK would cost them
// a refused system call without CAP_NET_ADMIN.
func transparentOptions(t *config.Tunnel) proxy.Transparent {
	tr := t.Transparent
	out := proxy.Transparent{Source: tr.Source}
	if t.IsTransparent() || tr.Source {
		out.Mark, _ = config.ParseMark(tr.Mark) // validated
	}
	if !t.IsTransparent() {
		return out
	}
	out.Mode, out.PortMap = tr.Mode, maps.Clone(tr.PortMap)
	for _, d := range config.ParseDestinations(tr.Destinations) {
		out.Destinations = append(out.Destinations, proxy.Destination(d))
	}
	return out
}

// writeTransparentPlan shows where a transparent tunnel may dial, and the
// socket options of its dials.
func writeTransparentPlan(b *strings.Builder, t *config.Tunnel) {
	tr := t.Transparent
	mark := "mark " + tr.Mark
	if m, _ := config.ParseMark(tr.Mark); m == 0 {
		mark = "no mark"
	}
	switch {
	case t.IsTransparent():
		ports := make([]string, 0, len(tr.PortMap))
		for _, from := range slices.Sorted(maps.Keys(tr.PortMap)) {
			ports = append(ports, fmt.Sprintf("%d->%d", from, tr.PortMap[from]))
		}
		fmt.Fprintf(b, "  %-9s %s: destinations %s, ports %s, %s\n", "transparent", tr.Mode,
			strings.Join(tr.Destinations, ", "), strings.Join(ports, ", "), mark)
	case tr.Source:
		fmt.Fprintf(b, "  %-9s the target sees the client's address (IP_TRANSPARENT), %s\n", "source", mark)
	}
}
