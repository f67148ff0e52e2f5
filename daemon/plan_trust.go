package daemon

import (
	"fmt"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// writeTrustPlan adds to a tunnel's plan what narrows or adds to its
// verification: a self-signed or SPIFFE identity, pins, the allow list and a shared
// secret (named by where it comes from, never by its value).
func writeTrustPlan(b *strings.Builder, t *config.Tunnel) {
	if c := t.TLS; c != nil && c.SelfSigned {
		fmt.Fprintf(b, "  %-9s self-signed, kept in the state directory (fingerprint logged at start)\n", "identity")
	}
	if sp := t.SPIFFE; sp != nil {
		socket := sp.Socket
		if socket == "" {
			socket = "$SPIFFE_ENDPOINT_SOCKET"
		}
		fmt.Fprintf(b, "  %-9s SPIFFE X.509-SVID and bundles from the Workload API at %s, as the agent rotates them\n", "identity", socket)
	}
	if mode := verifyPlan(t); mode != "" {
		fmt.Fprintf(b, "  %-9s %s\n", "verify", mode)
	}
	if c := t.TLS; c != nil && len(c.CRL) > 0 {
		fmt.Fprintf(b, "  %-9s peers revoked by %s are refused (hot-reloaded)\n", "crl", strings.Join(c.CRL, ", "))
	}
	if d := t.Deny; len(d.Fingerprints) > 0 || len(d.Serials) > 0 {
		fmt.Fprintf(b, "  %-9s %d fingerprints, %d serials refused\n", "deny", len(d.Fingerprints), len(d.Serials))
	}
	if c := t.TLS; c != nil && len(c.Pin) > 0 {
		fmt.Fprintf(b, "  %-9s peer leaf certificate is one of %s\n", "pin", strings.Join(c.Pin, ", "))
	}
	a := t.Allow
	var allow []string
	for _, l := range []struct {
		name string
		list []string
	}{{"cn", a.CN}, {"dns", a.DNS}, {"uri", a.URI}, {"ou", a.OU}} {
		if len(l.list) > 0 {
			allow = append(allow, l.name+" "+strings.Join(l.list, ","))
		}
	}
	if len(allow) > 0 {
		fmt.Fprintf(b, "  %-9s peers with %s\n", "allow", strings.Join(allow, " or "))
	}
	if t.SharedSecret.IsSet() {
		fmt.Fprintf(b, "  %-9s %s, proved after every handshake\n", "secret", t.SharedSecret.Source)
	}
}

// verifyPlan says what tls.verify makes of the peer's certificate, or ""
// when nothing is verified or a passphrase decides.
func verifyPlan(t *config.Tunnel) string {
	c := t.TLS
	if c == nil || t.Passphrase.IsSet() || c.InsecureSkipVerify || (t.Mode == config.ModeServer && c.ClientAuth == "none") {
		return ""
	}
	anchor := "tls.ca"
	switch {
	case c.CA == "" && c.SystemRoots:
		anchor = "the system roots"
	case c.CA != "" && c.SystemRoots:
		anchor = "tls.ca or the system roots"
	case c.CA == "":
		return "pin: the peer's leaf is one of tls.pin, no CA"
	}
	switch {
	case c.Verify == config.VerifyPin:
		return "pin: the peer's leaf is one of tls.pin, no CA"
	case t.Mode == config.ModeServer:
		return "chain to " + anchor + ", no name check (client certificates are never checked by name)"
	case c.Verify == config.VerifyChain:
		return "chain to " + anchor + ", no name check"
	case c.LegacyCommonName:
		return "chain to " + anchor + " and the server name in a SAN (or the CN of a certificate without SAN)"
	}
	return "chain to " + anchor + " and the server name in a SAN"
}
