package config

import (
	"net/netip"
	"net/url"
	"strings"
)

// spiffeIdentity and spiffeTrust say why a setting conflicts with the
// spiffe block: the Workload API gives both what the tunnel presents and
// what it trusts, so either would be silently overridden.
const (
	spiffeIdentity = "the SPIFFE Workload API gives this tunnel's identity (its X.509-SVID)"
	spiffeTrust    = "the SPIFFE Workload API gives this tunnel's trust (the X.509 bundles of its trust domains)"
)

var spiffeConflicts = []struct {
	field string
	why   string
	set   func(t *Tunnel, tl *TLS) bool
}{
	{"tls.cert", spiffeIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.Cert != "" }},
	{"tls.key", spiffeIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.Key != "" }},
	{"tls.self_signed", spiffeIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.SelfSigned }},
	{"acme", spiffeIdentity, func(t *Tunnel, _ *TLS) bool { return t.ACME != nil }},
	{"tls.ca", spiffeTrust, func(_ *Tunnel, tl *TLS) bool { return tl.CA != "" }},
	{"tls.pin", spiffeTrust, func(_ *Tunnel, tl *TLS) bool { return len(tl.Pin) > 0 }},
	{"tls.system_roots", spiffeTrust, func(_ *Tunnel, tl *TLS) bool { return tl.SystemRoots }},
	{"tls.insecure_skip_verify", spiffeTrust, func(_ *Tunnel, tl *TLS) bool { return tl.InsecureSkipVerify }},
}

// spiffe checks a tunnel with a spiffe block, in place of identity and
// trust: nothing else may claim either role, and a server always verifies
// its clients (SPIFFE is mutual TLS).
func (v *validator) spiffe(i int) {
	t := &v.c.Tunnels[i]
	tl := t.TLS
	if tl == nil {
		tl = DefaultTLS(t.Mode)
	}
	block := "spiffe"
	if v.flags {
		block = "spiffe.socket" // the flag that made the block
	}
	for _, c := range spiffeConflicts {
		if c.set(t, tl) && v.ok(i, c.field) {
			v.fail(i, c.field, "conflicts with %s: %s", v.name(block), c.why)
		}
	}
	if t.Mode == ModeServer && tl.ClientAuth != "require" && v.ok(i, "tls.client_auth") {
		v.fail(i, "tls.client_auth", "conflicts with %s: a SPIFFE tunnel always requires and verifies client SVIDs; leave it out or set %s",
			v.name(block), v.setting("tls.client_auth", "require"))
	}
	if s := t.SPIFFE.Socket; v.given(i, "spiffe.socket") && v.ok(i, "spiffe.socket") {
		if msg := badWorkloadAddress(s); msg != "" {
			v.fail(i, "spiffe.socket", "%q: %s", s, msg)
		}
	}
}

// badWorkloadAddress says why s is no Workload API address, or returns "":
// the forms the SPIFFE Workload Endpoint spec (and go-spiffe) accept.
func badWorkloadAddress(s string) string {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return "must not be empty (leave it out to use $SPIFFE_ENDPOINT_SOCKET)"
	case err != nil:
		return "want unix:///path or tcp://ip:port"
	case u.Scheme == "unix":
		if u.Opaque != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return "want unix:///absolute/path (three slashes)"
		}
	case u.Scheme == "tcp":
		ap, err := netip.ParseAddrPort(u.Host)
		if err != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || ap.Port() == 0 {
			return "want tcp://ip:port (an IP address, not a host name)"
		}
	default:
		return "want unix:///path or tcp://ip:port"
	}
	return ""
}
