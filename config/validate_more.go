package config

import (
	"net/netip"
	"net/url"
)

func (v *validator) acme(i int) {
	a := v.c.Tunnels[i].ACME
	if a == nil {
		return
	}
	if len(a.Domains) == 0 && v.ok(i, "acme.domains") {
		v.fail(i, "acme.domains", "required: at least one domain to get a certificate for")
	}
	if a.CA != "" {
		if u, err := url.Parse(a.CA); err != nil || u.Scheme != "https" || u.Host == "" {
			v.fail(i, "acme.ca", "invalid directory URL %q; want https://...", a.CA)
		}
	}
}

func (v *validator) allow(i int) {
	a := v.c.Tunnels[i].Allow
	for _, l := range []struct {
		field string
		list  []string
	}{{"allow.cn", a.CN}, {"allow.dns", a.DNS}, {"allow.uri", a.URI}, {"allow.ou", a.OU}} {
		for _, s := range l.list {
			if s == "" {
				v.fail(i, l.field, "empty entry: it would match nothing")
				break
			}
		}
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
	if p.Accept != "none" && len(p.Trusted) == 0 && v.ok(i, "proxy_protocol.accept") && v.ok(i, "proxy_protocol.trusted") {
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
}{
	{"admin", true, func(c *Config, _ *Tunnel) bool { return c.Admin != nil }},
	{"shared_secret", false, func(_ *Config, t *Tunnel) bool { return t.SharedSecret.IsSet() }},
	{"tls.pin", false, func(_ *Config, t *Tunnel) bool { return t.TLS != nil && len(t.TLS.Pin) > 0 }},
	{"tls.self_signed", false, func(_ *Config, t *Tunnel) bool { return t.TLS != nil && t.TLS.SelfSigned }},
	{"acme", false, func(_ *Config, t *Tunnel) bool { return t.ACME != nil }},
	{"allow.cn", false, func(_ *Config, t *Tunnel) bool { return len(t.Allow.CN) > 0 }},
	{"allow.dns", false, func(_ *Config, t *Tunnel) bool { return len(t.Allow.DNS) > 0 }},
	{"allow.uri", false, func(_ *Config, t *Tunnel) bool { return len(t.Allow.URI) > 0 }},
	{"allow.ou", false, func(_ *Config, t *Tunnel) bool { return len(t.Allow.OU) > 0 }},
	{"limits.accept_rate", false, func(_ *Config, t *Tunnel) bool { return t.Limits.AcceptRate != 0 }},
	{"limits.per_source_rate", false, func(_ *Config, t *Tunnel) bool { return t.Limits.PerSourceRate != 0 }},
	{"proxy_protocol.accept", false, func(_ *Config, t *Tunnel) bool { return t.ProxyProtocol.Accept != "none" }},
	{"proxy_protocol.trusted", false, func(_ *Config, t *Tunnel) bool { return len(t.ProxyProtocol.Trusted) > 0 }},
	{"proxy_protocol.send", false, func(_ *Config, t *Tunnel) bool { return t.ProxyProtocol.Send != "none" }},
	{"proxy_protocol.tls_tlvs", false, func(_ *Config, t *Tunnel) bool { return t.ProxyProtocol.TLSTLVs }},
}

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
