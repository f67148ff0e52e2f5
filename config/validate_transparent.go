package config

import (
	"net/netip"
	"slices"
)

// transparent checks the settings of transparent mode together: what
// needs a transparent client tunnel, what it needs, and the one loop the
// rules cannot break by themselves (see portLoops).
func (v *validator) transparent(i int) {
	t := &v.c.Tunnels[i]
	tr := t.Transparent
	if tr.Source && t.Mode != ModeServer && v.ok(i, "mode") {
		v.fail(i, "transparent_source", "only in server mode: it makes the target see the TLS client's address")
	}
	if !t.IsTransparent() {
		for _, f := range []string{"port_map", "destinations"} {
			if v.given(i, f) {
				v.fail(i, f, `only for a transparent tunnel (transparent = "redirect" or "tproxy")`)
			}
		}
		if v.given(i, "mark") && !tr.Source {
			v.fail(i, "mark", "only for a transparent tunnel or one with transparent_source: other tunnels' connections are not redirected")
		}
		return
	}
	if t.Mode != ModeClient && v.ok(i, "mode") {
		v.fail(i, "transparent", "only in client mode: it dials each redirected connection's original destination with TLS")
	}
	if v.given(i, "target_check") {
		v.fail(i, "target_check", "not with transparent = %q: it has no fixed target to check", tr.Mode)
	}
	if v.given(i, "target") {
		v.fail(i, "target", "not with transparent = %q: each connection goes to its original destination, on the port port_map names", tr.Mode)
	}
	if len(tr.PortMap) == 0 && v.ok(i, "port_map") {
		v.fail(i, "port_map", `required with transparent: each original port and the peer's tunnel port, like { "2552" = 12552 }`)
	}
	if len(tr.Destinations) == 0 && v.ok(i, "destinations") {
		v.fail(i, "destinations", `required with transparent: the original destinations that may be dialled, like ["10.0.0.0/8"]`)
	}
	v.transparentListen(i)
	v.portLoops(i)
	if t.TLS != nil && !v.given(i, "passphrase") && t.TLS.ServerName == "" && !t.TLS.InsecureSkipVerify && v.ok(i, "tls.server_name") {
		v.fail(i, "tls.server_name", "required for a transparent tunnel verifying certificates: the name every peer's certificate holds "+
			"(there is no target host to check)")
	}
}

// transparentListen checks that the rules can send connections to the
// listen address: an IP address (REDIRECT: loopback, where the kernel
// delivers a redirected local connection), of the destinations' family.
func (v *validator) transparentListen(i int) {
	t := &v.c.Tunnels[i]
	if !v.ok(i, "listen") || t.Listen.Network == "" {
		return
	}
	host, _ := portOf(t.Listen)
	a, err := netip.ParseAddr(host)
	switch {
	case t.Listen.Network != NetTCP || err != nil:
		v.fail(i, "listen", "%q: a transparent tunnel listens on an IP address, like 127.0.0.1:15001: the rules send connections there", t.Listen)
		return
	case t.Transparent.Mode == TransparentRedirect && !a.IsLoopback():
		v.fail(i, "listen", "%q: with redirect, listen on 127.0.0.1 or [::1]: REDIRECT delivers a local connection to loopback", t.Listen)
		return
	}
	if !v.ok(i, "destinations") {
		return
	}
	for _, d := range ParseDestinations(t.Transparent.Destinations) {
		if d.Prefix.Addr().Is4() != a.Is4() {
			v.fail(i, "destinations", "%s is not of the family of listen %q: a redirected connection keeps its family; "+
				"declare another tunnel for it", d.Prefix, t.Listen)
			return
		}
	}
}

// portLoops refuses a tunnel port that is itself a redirected port (a key
// of a port_map in the file): passtunnel's own connection to it would be
// redirected back to a client tunnel. With mapped ports apart from
// redirected ones, the rules need no mark or owner match to stay out of
// passtunnel's way (see docs/behaviour.md#transparent-mode).
func (v *validator) portLoops(i int) {
	if !v.ok(i, "port_map") {
		return
	}
	pm := v.c.Tunnels[i].Transparent.PortMap
	from := make([]int, 0, len(pm))
	for k := range pm {
		from = append(from, int(k))
	}
	slices.Sort(from)
	for _, k := range from {
		for j := range v.c.Tunnels {
			o := &v.c.Tunnels[j]
			if _, redirected := o.Transparent.PortMap[pm[uint16(k)]]; redirected && o.IsTransparent() {
				v.fail(i, "port_map", "%d -> %d: port %d is redirected too (port_map of tunnel %q): "+
					"passtunnel's own connection would come back to it; use a tunnel port apart from the daemons' ports",
					k, pm[uint16(k)], pm[uint16(k)], o.Name)
				return
			}
		}
	}
}
