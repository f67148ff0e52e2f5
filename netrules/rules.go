// Package netrules turns the transparent tunnels of a config into the
// firewall rules and policy routing they need, for nftables or iptables:
// the redirect of the daemons' outbound connections to the client tunnel,
// the drop of cleartext from other hosts to the daemons' ports, the
// exemptions that keep passtunnel's own connections out of the redirect,
// and for tproxy and transparent_source the local delivery by mark. It
// renders them as a script (Steps, Script) and runs them (Run); it
// imports config only.
package netrules

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/passtunnel/passtunnel/config"
)

// family is an address family of a rule; both is a rule for either.
type family int

const (
	v4 family = 1 << iota
	v6
	both = v4 | v6
)

// rule is one firewall rule in both syntaxes. head marks the exemptions a
// chain starts with, which mean nothing in a chain of no other rule.
type rule struct {
	fam  family
	nft  string
	ipt  string
	head bool
}

// chain is one chain of the rules: in nftables a base chain of table inet
// passtunnel, in iptables a chain of its own jumped to from a built-in one.
type chain struct {
	nftName, nftHook string // "out_redirect", "type nat hook output priority -100; policy accept;"
	table, parent    string // iptables: "nat", "OUTPUT"
	iptName          string // "PASSTUNNEL"
	rules            []rule
}

// Ruleset is the rules of one config. Its chains are always the same four,
// empty ones included, so that applying a config also takes away what an
// earlier one needed and this one does not.
type Ruleset struct {
	chains []*chain
	routed family // families that need the local-delivery route (tproxy, transparent_source)
}

// The chains, by what they do.
const (
	chRedirect = iota // nat output: the daemons' connections to the client tunnel
	chInput           // filter input: no cleartext from other hosts to the daemons' ports
	chMark            // route output: mark what must be delivered locally
	chTproxy          // mangle prerouting: marked connections to the tproxy listener
)

func newRuleset() *Ruleset {
	return &Ruleset{chains: []*chain{
		{nftName: "out_redirect", nftHook: "type nat hook output priority -100; policy accept;",
			table: "nat", parent: "OUTPUT", iptName: "PASSTUNNEL"},
		{nftName: "in_drop", nftHook: "type filter hook input priority filter; policy accept;",
			table: "filter", parent: "INPUT", iptName: "PASSTUNNEL-INPUT"},
		{nftName: "out_mark", nftHook: "type route hook output priority mangle; policy accept;",
			table: "mangle", parent: "OUTPUT", iptName: "PASSTUNNEL-MARK"},
		{nftName: "pre_tproxy", nftHook: "type filter hook prerouting priority mangle; policy accept;",
			table: "mangle", parent: "PREROUTING", iptName: "PASSTUNNEL-TPROXY"},
	}}
}

// Build makes the rules of c's transparent tunnels and transparent_source
// server tunnels; c is validated. A config with neither has empty chains.
func Build(c *config.Config) *Ruleset {
	r := newRuleset()
	marks := map[uint32]bool{}
	for i := range c.Tunnels {
		t := &c.Tunnels[i]
		if m, _ := config.ParseMark(t.Transparent.Mark); m != 0 && (t.IsTransparent() || t.Transparent.Source) {
			marks[m] = true
		}
	}
	for _, m := range slices.Sorted(maps.Keys(marks)) {
		for _, ch := range []int{chRedirect, chMark} {
			r.add(ch, rule{fam: both, head: true, nft: fmt.Sprintf("meta mark %#x return", m),
				ipt: fmt.Sprintf("-m mark --mark %#x -j RETURN", m)})
		}
	}
	for _, ch := range []int{chRedirect, chMark} {
		r.add(ch, rule{fam: both, head: true, nft: "fib daddr type local return", ipt: "-m addrtype --dst-type LOCAL -j RETURN"})
	}
	dropped := map[uint16]bool{}
	for i := range c.Tunnels {
		t := &c.Tunnels[i]
		switch {
		case t.IsTransparent():
			r.transparent(t)
			for p := range t.Transparent.PortMap {
				dropped[p] = true
			}
		case t.Transparent.Source && t.Target.Network == config.NetTCP:
			r.source(t)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(dropped)) {
		r.add(chInput, rule{fam: both, nft: fmt.Sprintf(`iifname != "lo" tcp dport %d drop`, p),
			ipt: fmt.Sprintf("! -i lo -p tcp --dport %d -j DROP", p)})
	}
	return r
}

func (r *Ruleset) add(ch int, ru rule) { r.chains[ch].rules = append(r.chains[ch].rules, ru) }

// transparent adds a transparent tunnel's redirect (or mark and tproxy):
// each destination, on each of its ports that port_map lists.
func (r *Ruleset) transparent(t *config.Tunnel) {
	host, port, _ := net.SplitHostPort(t.Listen.Addr)
	listen, _ := netip.ParseAddr(host)
	for _, d := range config.ParseDestinations(t.Transparent.Destinations) {
		fam, ip := v4, "ip"
		if d.Prefix.Addr().Is6() {
			fam, ip = v6, "ip6"
		}
		for _, p := range slices.Sorted(maps.Keys(t.Transparent.PortMap)) {
			if d.Port != 0 && d.Port != p {
				continue
			}
			match := fmt.Sprintf("%s daddr %s tcp dport %d", ip, d.Prefix, p)
			imatch := fmt.Sprintf("-d %s -p tcp --dport %d", d.Prefix, p)
			if t.Transparent.Mode == config.TransparentRedirect {
				r.add(chRedirect, rule{fam: fam, nft: match + " redirect to :" + port, ipt: imatch + " -j REDIRECT --to-ports " + port})
				continue
			}
			r.routed |= fam
			r.add(chMark, rule{fam: fam, nft: fmt.Sprintf("%s meta mark set %#x", match, config.RouteMark),
				ipt: fmt.Sprintf("%s -j MARK --set-mark %#x", imatch, config.RouteMark)})
			to := net.JoinHostPort(listen.String(), port)
			r.add(chTproxy, rule{fam: fam, nft: fmt.Sprintf("meta mark %#x %s tproxy %s to %s", config.RouteMark, match, ip, to),
				ipt: fmt.Sprintf("-m mark --mark %#x %s -j TPROXY --on-ip %s --on-port %s", config.RouteMark, imatch, listen, port)})
		}
	}
}

// source adds a transparent_source tunnel's return path: the target's
// replies go to the client's address, which is no local one; the mark
// routes them to the local socket that dialled from it.
func (r *Ruleset) source(t *config.Tunnel) {
	host, port, _ := net.SplitHostPort(t.Target.Addr)
	match, imatch, fam := "tcp sport "+port, "-p tcp --sport "+port, both
	if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
		ip := "ip"
		fam = v4
		if a.Is6() {
			ip, fam = "ip6", v6
		}
		match = fmt.Sprintf("%s saddr %s %s", ip, a, match)
		imatch = fmt.Sprintf("-s %s %s", a, imatch)
	}
	r.routed |= fam
	r.add(chMark, rule{fam: fam, nft: fmt.Sprintf("%s meta mark set %#x", match, config.RouteMark),
		ipt: fmt.Sprintf("%s -j MARK --set-mark %#x", imatch, config.RouteMark)})
}

// used reports whether ch has a rule for fam besides its exemptions.
func (ch *chain) used(fam family) bool {
	return slices.ContainsFunc(ch.rules, func(ru rule) bool { return !ru.head && ru.fam&fam != 0 })
}

// Empty reports whether the config needs no rule at all.
func (r *Ruleset) Empty() bool {
	return !slices.ContainsFunc(r.chains, func(ch *chain) bool { return ch.used(both) })
}

// routeTable is the routing table of local delivery, as ip(8) takes it.
var routeTable = strconv.Itoa(config.RouteTable)
