package proxy

import (
	"fmt"
	"strings"
	"time"
)

// defaultHelloTimeout bounds the ClientHello of a group whose tunnels set
// no handshake timeout.
const defaultHelloTimeout = 10 * time.Second

// routeTable is what a Group reads, without a lock, for each connection:
// which tunnel each SNI name picks, and the bounds of the ClientHello read.
// It is rebuilt whenever a tunnel joins or leaves the group or changes its
// settings, and replaced whole.
type routeTable struct {
	exact map[string]*Tunnel // by lower-case name
	wild  map[string]*Tunnel // "*.b.example" by "b.example"
	def   *Tunnel            // sni_default; nil: unknown names are refused

	// timeout is the smallest handshake_timeout of the tunnels: the
	// ClientHello comes before any of them is known, and must not take
	// longer than the strictest allows.
	timeout time.Duration
	// perSource bounds the ClientHellos read at once from one source: the
	// largest per_source_handshakes (a client of the most lenient tunnel
	// must get to it), 0 (no limit) if a tunnel sets none.
	perSource int
	// total bounds the ClientHellos read at once: the sum of the tunnels'
	// max_connections, 0 (no limit) if one of them is unlimited.
	total int
	// descriptors is the tunnels' descriptor budget (a process's tunnels
	// share one; nil: none): a ClientHello being read holds a descriptor
	// of it, and the tunnel the connection goes to takes its own.
	descriptors *DescriptorBudget
}

// buildRoutes makes the table of members as their settings are now. A name
// two members claim goes to the first: Join refuses that, but a reload can
// move a name from one tunnel to another in two steps (see Tunnel.Update).
func buildRoutes(members []*Tunnel) *routeTable {
	r := &routeTable{exact: map[string]*Tunnel{}, wild: map[string]*Tunnel{}}
	unlimitedSource, unlimitedTotal := false, false
	for _, t := range members {
		o := t.opts.Load()
		for _, n := range o.ServerNames {
			m, key := r.exact, strings.ToLower(n)
			if rest, ok := strings.CutPrefix(key, "*."); ok {
				m, key = r.wild, rest
			}
			if _, taken := m[key]; !taken {
				m[key] = t
			}
		}
		if o.SNIDefault && r.def == nil {
			r.def = t
		}
		if r.descriptors == nil {
			r.descriptors = o.Descriptors
		}
		l := o.Limits
		if l.HandshakeTimeout > 0 && (r.timeout == 0 || l.HandshakeTimeout < r.timeout) {
			r.timeout = l.HandshakeTimeout
		}
		r.perSource = max(r.perSource, l.PerSourceHandshakes)
		unlimitedSource = unlimitedSource || l.PerSourceHandshakes <= 0
		r.total += l.MaxConnections
		unlimitedTotal = unlimitedTotal || l.MaxConnections <= 0
	}
	if r.timeout == 0 {
		r.timeout = defaultHelloTimeout
	}
	if unlimitedSource {
		r.perSource = 0
	}
	if unlimitedTotal {
		r.total = 0
	}
	return r
}

// pick is the tunnel a ClientHello naming serverName goes to, nil for
// none. An exact name beats a wildcard; "*.b.example" stands for one label,
// so it takes "x.b.example" but neither "b.example" nor "y.x.b.example".
// No name at all goes to the default.
func (r *routeTable) pick(serverName string) *Tunnel {
	name := strings.ToLower(serverName)
	if name == "" {
		return r.def
	}
	if t := r.exact[name]; t != nil {
		return t
	}
	if label, parent, ok := strings.Cut(name, "."); ok && label != "" && parent != "" {
		if t := r.wild[parent]; t != nil {
			return t
		}
	}
	return r.def
}

// claims names what of o's names or default another member of r already
// has, "" for nothing.
func (r *routeTable) claims(o *Options) string {
	for _, n := range o.ServerNames {
		m, key := r.exact, strings.ToLower(n)
		if rest, ok := strings.CutPrefix(key, "*."); ok {
			m, key = r.wild, rest
		}
		if t := m[key]; t != nil {
			return fmt.Sprintf("server name %q is tunnel %q's", n, t.name())
		}
	}
	if o.SNIDefault && r.def != nil {
		return fmt.Sprintf("tunnel %q is the default already", r.def.name())
	}
	return ""
}

// validateMember checks what a tunnel of a Group must be: a server tunnel
// with names or the default, without PROXY headers (they would come before
// the ClientHello that picks the tunnel, whose settings say whom to trust).
func validateMember(o *Options, listen Address) error {
	switch {
	case o.Mode != ModeServer:
		return fmt.Errorf("SNI routing is for server tunnels, not %q", o.Mode)
	case len(o.ServerNames) == 0 && !o.SNIDefault:
		return fmt.Errorf("a tunnel of a shared listener needs server names or to be the default")
	case acceptsHeader(o):
		return fmt.Errorf("proxy_protocol.accept is not supported on a tunnel routed by SNI")
	case o.Listen != listen:
		return fmt.Errorf("listen %s is not the group's %s", o.Listen, listen)
	}
	for _, n := range o.ServerNames {
		if rest, _ := strings.CutPrefix(n, "*."); rest == "" || strings.Contains(rest, "*") {
			return fmt.Errorf("server name %q: want a name or \"*.\" and a name", n)
		}
	}
	return nil
}
