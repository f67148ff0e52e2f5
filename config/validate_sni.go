package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// SNIRouted reports whether the tunnel is picked by SNI on its listen
// address: it names server_names or takes the rest (sni_default). Such
// tunnels may share one listen address.
func (t *Tunnel) SNIRouted() bool { return len(t.ServerNames) > 0 || t.SNIDefault }

// dnsLabel is one label of a server name, compared in lower case.
var dnsLabel = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$`)

// checkServerName says what is wrong with one server_names entry, or "":
// a DNS name, or "*." and a DNS name (the * stands for exactly one label).
func checkServerName(name string) string {
	host := strings.TrimPrefix(strings.ToLower(name), "*.")
	switch {
	case name == "":
		return "an empty name"
	case strings.HasSuffix(host, "."):
		return fmt.Sprintf("%q: write it without the trailing dot", name)
	case strings.Contains(host, "*"):
		return fmt.Sprintf("%q: a wildcard is only \"*.\" followed by a name, standing for one whole label", name)
	case len(host) > 253:
		return fmt.Sprintf("%q: longer than 253 characters", name)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return fmt.Sprintf("%q is an IP address: clients send no IP address as SNI", name)
	}
	for _, l := range strings.Split(host, ".") {
		if !dnsLabel.MatchString(l) {
			return fmt.Sprintf("%q is not a DNS name (label %q)", name, l)
		}
	}
	return ""
}

// sni checks one tunnel's SNI settings on their own; sniGroups checks the
// tunnels that share a listen address together.
func (v *validator) sni(i int) {
	t := &v.c.Tunnels[i]
	if t.Mode == ModeClient {
		for _, f := range []string{"server_names", "sni_default"} {
			if v.given(i, f) {
				v.fail(i, f, "only meaningful in server mode (a client tunnel sends tls.server_name)")
			}
		}
		return
	}
	seen := map[string]bool{}
	for _, n := range t.ServerNames {
		if msg := checkServerName(n); msg != "" {
			v.fail(i, "server_names", "%s", msg)
			return
		}
		lower := strings.ToLower(n)
		if seen[lower] {
			v.fail(i, "server_names", "%q is listed twice", n)
			return
		}
		seen[lower] = true
	}
	if t.SNIRouted() && t.ProxyProtocol.Accept != "none" && v.ok(i, "proxy_protocol.accept") {
		v.fail(i, "proxy_protocol.accept", "not supported yet on a tunnel routed by SNI (server_names, sni_default): "+
			"the PROXY header would have to be read before the ClientHello that picks the tunnel")
	}
}

// sharesListener reports whether tunnels i and j take one listener that
// SNI routes between: both routed by SNI, the same listen address as
// written. Only such tunnels may share an address.
func (v *validator) sharesListener(i, j int) bool {
	a, b := &v.c.Tunnels[i], &v.c.Tunnels[j]
	return a.SNIRouted() && b.SNIRouted() && a.Listen == b.Listen && a.Listen.Network != ""
}

// overlapHint is added to a refused overlap where SNI routing was meant.
func (v *validator) overlapHint(i, j int) string {
	if !v.c.Tunnels[i].SNIRouted() && !v.c.Tunnels[j].SNIRouted() {
		return ""
	}
	return "; tunnels share a listen address only when each sets server_names or sni_default and both write the same address"
}

// sniGroup checks tunnel i against the tunnel j before it that shares its
// listener: no name twice, one default, the same socket settings.
func (v *validator) sniGroup(i, j int) {
	a, b := &v.c.Tunnels[i], &v.c.Tunnels[j]
	other := func(field string) string {
		return fmt.Sprintf("tunnel %q at %s, which shares listen %q", b.Name, v.pos(j, field), a.Listen)
	}
	if a.SNIDefault && b.SNIDefault && v.ok(i, "sni_default") {
		v.fail(i, "sni_default", "%s has sni_default = true too: one tunnel per listen address takes the unknown names",
			other("sni_default"))
	}
	theirs := map[string]bool{}
	for _, n := range b.ServerNames {
		theirs[strings.ToLower(n)] = true
	}
	for _, n := range a.ServerNames {
		if theirs[strings.ToLower(n)] && v.ok(i, "server_names") {
			v.fail(i, "server_names", "%q is also a name of %s: each name picks one tunnel", n, other("server_names"))
			break
		}
	}
	if a.Listen.Network == NetUnix && a.ListenMode != b.ListenMode && v.ok(i, "listen_mode") {
		v.fail(i, "listen_mode", "%04o differs from listen_mode %04o of %s: one socket has one mode",
			uint32(a.ListenMode), uint32(b.ListenMode), other("listen_mode"))
	}
}
