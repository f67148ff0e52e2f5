package config

import (
	"strings"
	"testing"
)

// acmeServer is a valid server tunnel whose identity is an acme block and
// which requires client certificates; cases edit it.
const acmeServer = `tunnel "edge" {
  mode   = "server"
  listen = "0.0.0.0:443"
  target = "127.0.0.1:8080"
  tls { ca = "ca.crt" }
  acme {
    domains = ["edge.example.com", "192.0.2.7", "2001:db8::7"]
    email   = "ops@example.com"
    ca      = "https://acme.internal/directory"
    storage = "/var/lib/passtunnel/acme"
    trusted_roots = "acme-ca.pem"
  }
}
`

func TestACMEAccepted(t *testing.T) {
	c, err := Parse([]byte(acmeServer), "ok.hcl")
	if err != nil {
		t.Fatal(err)
	}
	a := c.Tunnels[0].ACME
	if a == nil || len(a.Domains) != 3 || a.Email != "ops@example.com" || !strings.HasSuffix(a.TrustedRoots, "acme-ca.pem") {
		t.Errorf("acme block decoded as %+v", a)
	}
	// Only the domains are required.
	min := strings.Replace(acmeServer, `    email   = "ops@example.com"
    ca      = "https://acme.internal/directory"
    storage = "/var/lib/passtunnel/acme"
    trusted_roots = "acme-ca.pem"
`, "", 1)
	if _, err := Parse([]byte(min), "ok.hcl"); err != nil {
		t.Errorf("minimal acme block refused: %v", err)
	}
}

func TestBrokenACMEConfigs(t *testing.T) {
	for _, tc := range []brokenConfig{
		{"client mode", strings.Replace(acmeServer, `mode   = "server"`, `mode   = "client"
  unsafe_listen = true`, 1), []string{
			`bad.hcl:7:3: tunnel "edge": acme: only meaningful in server mode: it gets the certificate a server presents`,
		}},
		{"other identities", strings.Replace(acmeServer, `tls { ca = "ca.crt" }`,
			`tls {
    ca = "ca.crt"
    cert = "tls.crt"
    alpn = ["acme-tls/1"]
  }`, 1), []string{
			`bad.hcl:10:3: tunnel "edge": acme: conflicts with tls.cert: give exactly one identity`,
			`bad.hcl:8:5: tunnel "edge": tls.alpn: "acme-tls/1" is reserved for the ACME challenge of the acme block`,
		}},
		{"unix listener", strings.Replace(acmeServer, `"0.0.0.0:443"`, `"unix:/run/edge.sock"`, 1), []string{
			`bad.hcl:6:3: tunnel "edge": acme: needs a host:port listen address: the CA validates the domain by connecting to it (TLS-ALPN-01)`,
		}},
		{"bad values", strings.NewReplacer(
			`"edge.example.com", `, `"*.example.com", `,
			`"ops@example.com"`, `"ops"`,
			`"https://acme.internal/directory"`, `"acme.internal"`,
			`"/var/lib/passtunnel/acme"`, `""`,
		).Replace(acmeServer), []string{
			`bad.hcl:7:5: tunnel "edge": acme.domains: "*.example.com": wildcard names need the DNS-01 challenge, and passtunnel answers TLS-ALPN-01 only: list each name`,
			`bad.hcl:8:5: tunnel "edge": acme.email: invalid address "ops": the CA writes to it about expiring certificates`,
			`bad.hcl:9:5: tunnel "edge": acme.ca: invalid directory URL "acme.internal"; want https://...`,
			`bad.hcl:10:5: tunnel "edge": acme.storage: must not be empty`,
		}},
		{"domain with a port", strings.Replace(acmeServer, `"edge.example.com", `, `"edge.example.com:443", `, 1), []string{
			`bad.hcl:7:5: tunnel "edge": acme.domains: "edge.example.com:443": want a DNS name (punycode for international names) or an IP address, without scheme, port or trailing dot`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantExactErrors(t, tc.src, tc.want)
		})
	}
}
