package config

import (
	"net/netip"
	"strings"
)

func (v *validator) allow(i int) {
	a := v.c.Tunnels[i].Allow
	for _, l := range []struct {
		field string
		list  []string
		sep   string // segment separator of * and ** patterns; "" = exact match only
	}{{"allow.cn", a.CN, ""}, {"allow.dns", a.DNS, "."}, {"allow.uri", a.URI, "/"}, {"allow.ou", a.OU, ""}} {
		for _, s := range l.list {
			if s == "" {
				v.fail(i, l.field, "empty entry: it would match nothing")
				break
			}
			if seg := partialWildcard(s, l.sep); seg != "" {
				v.fail(i, l.field, "pattern %q: segment %q: a wildcard must be a whole segment, * (exactly one) or ** (one or more)", s, seg)
				break
			}
		}
	}
	if !a.Empty() {
		v.allowNeedsPeerCert(i)
	}
}

// partialWildcard returns the first segment of s that holds a '*' without
// being "*" or "**" (pki matches the same way), or "".
func partialWildcard(s, sep string) string {
	if sep == "" {
		return ""
	}
	for _, seg := range strings.Split(s, sep) {
		if strings.Contains(seg, "*") && seg != "*" && seg != "**" {
			return seg
		}
	}
	return ""
}

// allowNeedsPeerCert refuses an allow block that would check nothing: a
// server that asks no client certificate, or a client that verifies none.
func (v *validator) allowNeedsPeerCert(i int) {
	t := &v.c.Tunnels[i]
	if t.TLS == nil || v.given(i, "passphrase") {
		return
	}
	field := "allow"
	for _, f := range []string{"allow.cn", "allow.dns", "allow.uri", "allow.ou"} {
		if v.given(i, f) {
			field = f
			break
		}
	}
	switch {
	case t.Mode == ModeServer && t.TLS.ClientAuth == "none" && v.ok(i, "tls.client_auth"):
		v.fail(i, field, "has no effect with %s: clients show no certificate to check", v.setting("tls.client_auth", "none"))
	case t.Mode == ModeClient && t.TLS.InsecureSkipVerify && v.ok(i, "tls.insecure_skip_verify"):
		v.fail(i, field, "has no effect with %s: an unverified server can claim any name", v.name("tls.insecure_skip_verify"))
	}
}

func (v *validator) proxyProtocol(i int) {
	p := v.c.Tunnels[i].ProxyProtocol
	if !oneOf(p.Accept, "none", "v1", "v2", "any") && v.ok(i, "proxy_protocol.accept") {
		v.fail(i, "proxy_protocol.accept", `invalid value %q; want "none", "v1", "v2" or "any"`, p.Accept)
	}
	if !oneOf(p.Send, "none", "v1", "v2") && v.ok(i, "proxy_protocol.send") {
		v.fail(i, "proxy_protocol.send", `invalid value %q; want "none", "v1" or "v2"`, p.Send)
	}
	for _, cidr := range p.Trusted {
		_, perr := netip.ParsePrefix(cidr)
		_, aerr := netip.ParseAddr(cidr)
		if perr != nil && aerr != nil {
			v.fail(i, "proxy_protocol.trusted", "invalid CIDR %q", cidr)
			break
		}
	}
	// A unix listener's peers are local processes that the socket file's
	// permissions already admit: proxy trusts them, so no CIDR is needed.
	unix := v.c.Tunnels[i].Listen.Network == NetUnix
	if p.Accept != "none" && len(p.Trusted) == 0 && !unix && v.ok(i, "proxy_protocol.accept") && v.ok(i, "proxy_protocol.trusted") {
		v.fail(i, "proxy_protocol.trusted", "required when accept is %q: only these sources may send a header", p.Accept)
	}
	if p.TLSTLVs && p.Send != "v2" {
		v.fail(i, "proxy_protocol.tls_tlvs", `needs send = "v2": only v2 headers carry TLVs`)
	}
}

// notSupported lists the schema fields that decode and validate but whose
// feature has not landed yet. Each later issue deletes its entries. A field is
// refused only when set to something other than its default, so a config may
// spell out the defaults. top marks settings outside tunnel blocks (t is nil).
var notSupported = []struct {
	field string
	top   bool
	set   func(c *Config, t *Tunnel) bool
}{}

// notSupported refuses features not built yet, except where the value was
// already refused for another reason (one error per field is enough).
func (v *validator) notSupported() {
	for _, ns := range notSupported {
		if ns.top {
			if ns.set(v.c, nil) && !v.failed[fieldKey{-1, ns.field}] {
				v.fail(-1, ns.field, "not supported yet")
			}
			continue
		}
		for i := range v.c.Tunnels {
			if ns.set(v.c, &v.c.Tunnels[i]) && v.ok(i, ns.field) {
				v.fail(i, ns.field, "not supported yet")
			}
		}
	}
}
