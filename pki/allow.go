package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// peerAllow is a tunnel's allow block, compiled. It narrows which peers an
// already verified handshake may come from; its lists are OR'd, so a leaf
// certificate matching any one entry is accepted.
type peerAllow struct {
	cn, ou   []string
	dns, uri [][]string // patterns split into segments
}

// compileAllow checks the allow patterns of t and compiles them; it returns
// nil when the tunnel has no allow block, which lets every peer through.
func compileAllow(t *config.Tunnel) (*peerAllow, error) {
	a := t.Allow
	if a.Empty() {
		return nil, nil
	}
	p := &peerAllow{cn: a.CN, ou: a.OU}
	for _, pat := range a.DNS {
		segs, err := splitPattern(dnsSegments(pat))
		if err != nil {
			return nil, fieldError(t, "allow.dns", fmt.Errorf("pattern %q: %w", pat, err))
		}
		p.dns = append(p.dns, segs)
	}
	for _, pat := range a.URI {
		segs, err := splitPattern(uriSegments(pat))
		if err != nil {
			return nil, fieldError(t, "allow.uri", fmt.Errorf("pattern %q: %w", pat, err))
		}
		p.uri = append(p.uri, segs)
	}
	return p, nil
}

// splitPattern refuses a '*' inside a segment ("web-*"): a wildcard is a
// whole segment, so what it may stand for is obvious from the pattern.
func splitPattern(segs []string) ([]string, error) {
	for _, s := range segs {
		if strings.Contains(s, "*") && s != "*" && s != "**" {
			return nil, fmt.Errorf("segment %q: a wildcard must be a whole segment, * (exactly one) or ** (one or more)", s)
		}
	}
	return segs, nil
}

// dnsSegments splits a DNS name into labels. DNS names compare without
// case and without a trailing dot.
func dnsSegments(name string) []string {
	return strings.Split(strings.TrimSuffix(strings.ToLower(name), "."), ".")
}

// uriSegments splits a URI at every '/': "spiffe://prod/node/a" is
// "spiffe:", "", "prod", "node", "a". The scheme and the empty segment
// before the authority compare literally, so a pattern cannot change them.
func uriSegments(uri string) []string { return strings.Split(uri, "/") }

// check accepts the peer when accepted, the certificate its verification
// accepted, matches one entry; certs is what the peer sent, for the error.
func (p *peerAllow) check(accepted *x509.Certificate, certs []*x509.Certificate) error {
	if p.allows(accepted) {
		return nil
	}
	return &tls.CertificateVerificationError{
		UnverifiedCertificates: certs,
		Err:                    fmt.Errorf("peer %s is not allowed by allow { }", identity(accepted)),
	}
}

func (p *peerAllow) allows(leaf *x509.Certificate) bool {
	for _, cn := range p.cn {
		if leaf.Subject.CommonName == cn {
			return true
		}
	}
	for _, ou := range p.ou {
		for _, have := range leaf.Subject.OrganizationalUnit {
			if have == ou {
				return true
			}
		}
	}
	for _, pat := range p.dns {
		for _, name := range leaf.DNSNames {
			if matchSegments(pat, dnsSegments(name)) {
				return true
			}
		}
	}
	for _, pat := range p.uri {
		for _, u := range leaf.URIs {
			if matchSegments(pat, uriSegments(u.String())) {
				return true
			}
		}
	}
	return false
}

// matchSegments reports whether val matches pat, where "*" stands for
// exactly one non-empty segment and "**" for one or more. It fills a table
// instead of backtracking: the value comes from the peer, and a pattern
// with several "**" must not cost it exponential time.
func matchSegments(pat, val []string) bool {
	// next[j] is whether pat[i+1:] matches val[j:]; cur the same for pat[i:].
	next := make([]bool, len(val)+1)
	cur := make([]bool, len(val)+1)
	next[len(val)] = true
	for i := len(pat) - 1; i >= 0; i-- {
		cur[len(val)] = false
		for j := len(val) - 1; j >= 0; j-- {
			switch pat[i] {
			case "**":
				cur[j] = val[j] != "" && (next[j+1] || cur[j+1])
			case "*":
				cur[j] = val[j] != "" && next[j+1]
			default:
				cur[j] = val[j] == pat[i] && next[j+1]
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

// identity names a certificate by everything allow can match, for the
// refusal message: the operator needs to see what the peer presented.
func identity(c *x509.Certificate) string {
	parts := []string{fmt.Sprintf("CN=%q", c.Subject.CommonName)}
	if len(c.Subject.OrganizationalUnit) > 0 {
		parts = append(parts, fmt.Sprintf("OU=%q", c.Subject.OrganizationalUnit))
	}
	if len(c.DNSNames) > 0 {
		parts = append(parts, fmt.Sprintf("DNS=%q", c.DNSNames))
	}
	if len(c.URIs) > 0 {
		uris := make([]string, len(c.URIs))
		for i, u := range c.URIs {
			uris[i] = u.String()
		}
		parts = append(parts, fmt.Sprintf("URI=%q", uris))
	}
	return strings.Join(parts, " ")
}
