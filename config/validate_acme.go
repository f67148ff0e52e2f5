package config

import (
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// ACMEChallengeALPN is the protocol of the TLS-ALPN-01 challenge (RFC
// 8737). It is written here, at the bottom of the package graph, so that
// config (which reserves it in tls.alpn) and pki (which answers it) share
// one spelling.
const ACMEChallengeALPN = "acme-tls/1"

// dnsName is a host name as an ACME CA accepts it: ASCII labels (punycode
// for international names), no trailing dot.
var dnsName = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// acme checks the acme block. Its conflicts with the other identities
// (tls.cert, tls.self_signed, passphrase) are found by identity and
// passphrase, which see every identity at once.
func (v *validator) acme(i int) {
	t := &v.c.Tunnels[i]
	a := t.ACME
	if a == nil {
		return
	}
	if t.Mode == ModeClient {
		v.fail(i, "acme", "only meaningful in server mode: it gets the certificate a server presents")
		return
	}
	if t.Listen.Network != NetTCP && v.ok(i, "listen") {
		v.fail(i, "acme", "needs a host:port listen address: the CA validates the domain by connecting to it (TLS-ALPN-01)")
	}
	if len(a.Domains) == 0 && v.ok(i, "acme.domains") {
		v.fail(i, "acme.domains", "required: at least one domain to get a certificate for")
	}
	for _, d := range a.Domains {
		if msg := badDomain(d); msg != "" {
			v.fail(i, "acme.domains", "%q: %s", d, msg)
			break
		}
	}
	if a.Email != "" && !strings.Contains(a.Email, "@") {
		v.fail(i, "acme.email", "invalid address %q: the CA writes to it about expiring certificates", a.Email)
	}
	if a.CA != "" {
		if u, err := url.Parse(a.CA); err != nil || u.Scheme != "https" || u.Host == "" {
			v.fail(i, "acme.ca", "invalid directory URL %q; want https://...", a.CA)
		}
	}
	for _, f := range []struct{ field, value string }{
		{"acme.storage", a.Storage}, {"acme.trusted_roots", a.TrustedRoots},
	} {
		if f.value == "" && v.given(i, f.field) && v.ok(i, f.field) {
			v.fail(i, f.field, "must not be empty")
		}
	}
	if t.TLS != nil && slices.Contains(t.TLS.ALPN, ACMEChallengeALPN) {
		v.fail(i, "tls.alpn", "%q is reserved for the ACME challenge of the acme block", ACMEChallengeALPN)
	}
}

// badDomain says why d cannot be in acme.domains, or returns "".
func badDomain(d string) string {
	switch {
	case d == "":
		return "empty entry"
	case strings.Contains(d, "*"):
		return "wildcard names need the DNS-01 challenge, and passtunnel answers TLS-ALPN-01 only: list each name"
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "" // an IP address certificate (RFC 8738), where the CA issues them
	}
	if len(d) > 253 || !dnsName.MatchString(d) {
		return "want a DNS name (punycode for international names) or an IP address, without scheme, port or trailing dot"
	}
	return ""
}
