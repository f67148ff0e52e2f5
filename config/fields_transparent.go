package config

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Transparent holds what a transparent client tunnel adds (it dials each
// connection's original destination instead of a target), and a server
// tunnel's transparent_source.
type Transparent struct {
	Mode         string   // none | redirect | tproxy
	PortMap      PortMap  // original destination port -> the peer's tunnel port
	Destinations []string // CIDRs (or addresses), each with an optional :port
	Mark         string   // SO_MARK on the tunnel's own connections, "0x7074"
	Source       bool     // server: dial the target from the client's address
}

// PortMap maps an original destination port (the daemon's) to the port of
// the peer's server tunnel.
type PortMap map[uint16]uint16

// Transparent modes.
const (
	TransparentNone     = "none"
	TransparentRedirect = "redirect"
	TransparentTproxy   = "tproxy"
)

// DefaultMark is the SO_MARK passtunnel's own connections carry, and the
// mark the rules let through untouched: "pt" in ASCII.
const DefaultMark = "0x7074"

// RouteMark and RouteTable are the firewall mark and the routing table
// the rules use to deliver packets locally (tproxy, and the replies of a
// transparent_source connection); the routing rule has priority RouteTable.
const (
	RouteMark  uint32 = 0x7075
	RouteTable        = 7075
)

// IsTransparent reports whether t dials original destinations.
func (t *Tunnel) IsTransparent() bool {
	return t.Transparent.Mode == TransparentRedirect || t.Transparent.Mode == TransparentTproxy
}

// transparentFields are the tunnel attributes of transparent mode, part of
// tunnelFields; their rules across fields are in validate_transparent.go.
var transparentFields = []field[Tunnel]{
	{name: "transparent", at: func(t *Tunnel) any { return &t.Transparent.Mode }, def: TransparentNone,
		check: func(p any) string {
			return oneOfMsg(*p.(*string), TransparentNone, TransparentRedirect, TransparentTproxy)
		},
		doc: row{text: "client, no `target`: `redirect` or `tproxy`: dial each redirected connection's original destination " +
			"([more](docs/behaviour.md#transparent-mode))"}},
	{name: "port_map", at: func(t *Tunnel) any { return &t.Transparent.PortMap }, doc: row{def: "`{}`",
		text: "transparent: original port -> the peer's tunnel port, `{ \"2552\" = 12552 }`; other ports are refused (`port_not_mapped`)"}},
	{name: "destinations", at: func(t *Tunnel) any { return &t.Transparent.Destinations }, check: destinationsCheck,
		doc: row{text: "transparent: CIDRs (optional `:port`) that may be dialled; anything else is refused (`destination_not_allowed`)"}},
	{name: "mark", at: func(t *Tunnel) any { return &t.Transparent.Mark }, def: DefaultMark, check: markCheck,
		doc: row{text: "SO_MARK on the transparent tunnel's own connections (the rules skip it; needs CAP_NET_ADMIN, else unset); `\"0\"` = none"}},
	{name: "transparent_source", at: func(t *Tunnel) any { return &t.Transparent.Source },
		doc: row{text: "server: dial the target from the client's address (`IP_TRANSPARENT`, CAP_NET_ADMIN; `passtunnel rules` routes replies)"}},
}

// oneOfMsg is the check message of a value that must be one of allowed.
func oneOfMsg(s string, allowed ...string) string {
	if oneOf(s, allowed...) {
		return ""
	}
	return fmt.Sprintf("invalid value %q; want %s", s, strings.Join(allowed, ", "))
}

// ParseMark parses mark: hexadecimal with 0x, or decimal, 32 bits.
func ParseMark(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil || strings.HasPrefix(s, "0") && len(s) > 1 && !strings.HasPrefix(strings.ToLower(s), "0x") {
		return 0, fmt.Errorf("invalid mark %q: want a 32-bit number, hexadecimal with 0x (\"0x7074\") or decimal", s)
	}
	return uint32(n), nil
}

func markCheck(p any) string {
	n, err := ParseMark(*p.(*string))
	switch {
	case err != nil:
		return err.Error()
	case n == RouteMark:
		return fmt.Sprintf("%#x is the mark the rules route local delivery by; choose another", n)
	}
	return ""
}

// Destination is one entry of destinations: a prefix and a port (0: any).
type Destination struct {
	Prefix netip.Prefix
	Port   uint16
}

// ParseDestination parses "10.0.0.0/8", "10.0.0.5:2552", "10.0.0.0/8:2552",
// "fd77::/64" or "[fd77::/64]:2552": an address is a prefix of one.
func ParseDestination(s string) (Destination, error) {
	host, port := s, ""
	if rest, ok := strings.CutPrefix(s, "["); ok {
		h, after, found := strings.Cut(rest, "]")
		if !found || after != "" && !strings.HasPrefix(after, ":") {
			return Destination{}, fmt.Errorf("invalid destination %q: want CIDR, CIDR:port or [IPv6 CIDR]:port", s)
		}
		host, port = h, strings.TrimPrefix(after, ":")
		if !strings.Contains(h, ":") {
			return Destination{}, fmt.Errorf("invalid destination %q: brackets are only for IPv6", s)
		}
	} else if strings.Count(s, ":") == 1 {
		host, port, _ = strings.Cut(s, ":")
	}
	d := Destination{}
	if p, err := netip.ParsePrefix(host); err == nil && p == p.Masked() {
		d.Prefix = p
	} else if a, aerr := netip.ParseAddr(host); aerr == nil && a.Zone() == "" {
		d.Prefix = netip.PrefixFrom(a, a.BitLen())
	} else {
		if err == nil {
			return Destination{}, fmt.Errorf("invalid destination %q: %s has host bits set; write %s", s, p, p.Masked())
		}
		return Destination{}, fmt.Errorf("invalid destination %q: want CIDR, CIDR:port or [IPv6 CIDR]:port", s)
	}
	if port != "" || strings.HasSuffix(s, ":") {
		n, err := parsePort(port)
		if err != nil || n == 0 {
			return Destination{}, fmt.Errorf("invalid destination %q: port must be a number from 1 to 65535", s)
		}
		d.Port = uint16(n)
	}
	return d, nil
}

// ParseDestinations parses a validated destinations list.
func ParseDestinations(list []string) []Destination {
	out := make([]Destination, 0, len(list))
	for _, s := range list {
		if d, err := ParseDestination(s); err == nil {
			out = append(out, d)
		}
	}
	return out
}

func destinationsCheck(p any) string {
	for _, s := range *p.(*[]string) {
		if _, err := ParseDestination(s); err != nil {
			return err.Error()
		}
	}
	return ""
}

// portMap decodes an object of port numbers: { "2552" = 12552 }.
func (s *scope) portMap(name string, dst *PortMap) {
	v, ok := s.typed(name, cty.Map(cty.Number), `must be an object of ports, like { "2552" = 12552 }`)
	if !ok {
		return
	}
	out := PortMap{}
	for k, n := range v.AsValueMap() {
		from, err := parsePort(k)
		to, acc := n.AsBigFloat().Int64()
		switch {
		case err != nil || from == 0:
			s.fail(name, s.attrs[name], "key %q: want a port from 1 to 65535", k)
			return
		case !n.AsBigFloat().IsInt() || acc != big.Exact || to < 1 || to > 65535:
			s.fail(name, s.attrs[name], "%q = %s: want a port from 1 to 65535", k, n.AsBigFloat().Text('g', -1))
			return
		}
		out[uint16(from)] = uint16(to)
	}
	*dst = out
}
