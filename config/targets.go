package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The balance strategies: how a tunnel with several targets picks the one
// a connection tries first (the others follow, see docs/behaviour.md).
const (
	BalanceFailover   = "failover"    // the first target, in the order given, that is up
	BalanceRoundRobin = "round_robin" // each connection starts at the next target
	BalanceRandom     = "random"      // each connection starts at a random target
)

// TargetList is the tunnel's targets: Targets, or Target alone for a
// tunnel built in code that set only Target.
func (t *Tunnel) TargetList() []Address {
	if len(t.Targets) > 0 || t.Target.Network == "" {
		return t.Targets
	}
	return []Address{t.Target}
}

func checkBalance(p any) string {
	if b := *p.(*string); !oneOf(b, BalanceFailover, BalanceRoundRobin, BalanceRandom) {
		return fmt.Sprintf("invalid value %q; want %q, %q or %q", b, BalanceFailover, BalanceRoundRobin, BalanceRandom)
	}
	return ""
}

// addresses decodes one address or a list of them. A list element that
// does not parse is reported where it is written.
func (s *scope) addresses(name string, dst *[]Address) {
	const want = "must be an address (\"host:port\", \"unix:/path\") or a list of them"
	v, a, ok := s.value(name)
	if !ok {
		return
	}
	if v.Type() == cty.String {
		addr, err := ParseAddress(v.AsString())
		if err != nil {
			s.fail(name, a, "%v", err)
			return
		}
		*dst = []Address{addr}
		return
	}
	list, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || !list.IsWhollyKnown() {
		s.fail(name, a, "%s", want)
		return
	}
	tuple, _ := a.Expr.(*hclsyntax.TupleConsExpr) // a literal list: its elements have positions
	out := []Address{}
	for n, e := range list.AsValueSlice() {
		if e.IsNull() {
			s.fail(name, a, "%s", want)
			return
		}
		addr, err := ParseAddress(e.AsString())
		if err != nil {
			at := a.Range.Start
			if tuple != nil && n < len(tuple.Exprs) {
				at = tuple.Exprs[n].Range().Start
			}
			s.failAt(name, at, "element %d: %v", n+1, err)
			return
		}
		out = append(out, addr)
	}
	*dst = out
}

// addressesFlag parses every value of a repeatable address flag.
func (b *flagBuilder) addressesFlag(flag string, dst *[]Address) {
	out := []Address{}
	for _, text := range b.f.l[flag].vals {
		a, err := ParseAddress(text)
		if err != nil {
			b.fail(flag, "%v", err)
			return
		}
		out = append(out, a)
	}
	*dst = out
}

// targets checks the tunnel's targets: at least one, each dialable, none
// twice, none the tunnel's own listen address. Target becomes the first.
func (v *validator) targets(i int) {
	t := &v.c.Tunnels[i]
	list := t.TargetList()
	if len(list) > 0 {
		t.Target = list[0]
	}
	if !v.given(i, "target") || !v.ok(i, "target") {
		return // a missing target is reported by addresses, or is a transparent tunnel's
	}
	if len(list) == 0 {
		v.fail(i, "target", "an empty list: want at least one host:port or unix:/path")
		return
	}
	seen := map[Address]bool{}
	for _, a := range list {
		problem := ""
		key := a
		if a.Network == NetTCP {
			key.Addr = strings.ToLower(a.Addr)
			switch host, port := portOf(a); {
			case host == "":
				problem = "missing host"
			case port == 0:
				problem = "port 0 cannot be dialled"
			}
		}
		switch {
		case problem != "":
			v.fail(i, "target", "invalid address %q: %s", a, problem)
		case seen[key]:
			v.fail(i, "target", "%q is listed twice", a)
		case overlaps(t.Listen, a):
			v.fail(i, "target", "%q is the tunnel's own listen address: it would connect to itself", a)
		}
		if !v.ok(i, "target") {
			return
		}
		seen[key] = true
	}
}

// targetName checks that a client tunnel verifying its server by name
// has one name to verify: tls.server_name, else the host of its targets,
// which must then be one host (the check is fixed per tunnel; several
// hosts need the name their certificates share).
func (v *validator) targetName(i int, tl *TLS) {
	t := &v.c.Tunnels[i]
	if tl.ServerName != "" || (!v.given(i, "tls.ca") && !tl.SystemRoots) || !v.ok(i, "target") {
		return
	}
	var hosts []string
	for _, a := range t.TargetList() {
		if a.Network == NetUnix {
			v.fail(i, "tls.server_name", "required with a unix target: it is the name the server certificate must carry")
			return
		}
		host, _ := portOf(a)
		if len(hosts) == 0 || !strings.EqualFold(host, hosts[0]) {
			hosts = append(hosts, host)
		}
	}
	if len(hosts) > 1 {
		v.fail(i, "tls.server_name", "required with targets on different hosts (%q, %q): "+
			"it is the one name every target's certificate must carry", hosts[0], hosts[1])
	}
}
