package config

import (
	"strings"
	"testing"
)

// spiffeServer is a valid server tunnel whose identity and trust come from
// a SPIFFE Workload API; cases edit it.
const spiffeServer = `tunnel "edge" {
  mode   = "server"
  listen = "0.0.0.0:8443"
  target = "127.0.0.1:8080"
  spiffe {
    socket = "unix:///run/spire/agent.sock"
  }
  allow { uri = ["spiffe://example.org/client"] }
}
`

func TestSPIFFEAccepted(t *testing.T) {
	for _, src := range []string{
		spiffeServer,
		strings.Replace(spiffeServer, `"unix:///run/spire/agent.sock"`, `"tcp://127.0.0.1:8081"`, 1),
		strings.Replace(spiffeServer, `socket = "unix:///run/spire/agent.sock"`, ``, 1),
		strings.NewReplacer(`"server"`, `"client"`, `"0.0.0.0:8443"`, `"127.0.0.1:6379"`).Replace(spiffeServer),
	} {
		c, err := Parse([]byte(src), "ok.hcl")
		if err != nil {
			t.Fatalf("refused:\n%s\n%v", src, err)
		}
		if c.Tunnels[0].SPIFFE == nil {
			t.Errorf("spiffe block not decoded:\n%s", src)
		}
	}
}

func TestBrokenSPIFFEConfigs(t *testing.T) {
	for _, tc := range []brokenConfig{
		{"other identities and trust", strings.Replace(spiffeServer, `  spiffe {`, `  tls {
    cert = "tls.crt"
    key  = "tls.key"
    ca   = "ca.crt"
    client_auth = "request"
  }
  spiffe {`, 1), []string{
			`bad.hcl:6:5: tunnel "edge": tls.cert: conflicts with spiffe: the SPIFFE Workload API gives this tunnel's identity (its X.509-SVID)`,
			`bad.hcl:7:5: tunnel "edge": tls.key: conflicts with spiffe: the SPIFFE Workload API gives this tunnel's identity (its X.509-SVID)`,
			`bad.hcl:8:5: tunnel "edge": tls.ca: conflicts with spiffe: the SPIFFE Workload API gives this tunnel's trust (the X.509 bundles of its trust domains)`,
			`bad.hcl:9:5: tunnel "edge": tls.client_auth: conflicts with spiffe: a SPIFFE tunnel always requires and verifies client SVIDs; leave it out or set tls.client_auth = "require"`,
		}},
		{"with a passphrase", strings.Replace(spiffeServer, `  spiffe {`, `  passphrase = "correct horse battery staple orbit"
  spiffe {`, 1), []string{
			`bad.hcl:6:3: tunnel "edge": spiffe: conflicts with passphrase: the passphrase is this tunnel's identity (a node certificate of the cluster)`,
		}},
		{"with acme", strings.Replace(spiffeServer, `  spiffe {`, `  acme { domains = ["edge.example.com"] }
  spiffe {`, 1), []string{
			`bad.hcl:5:3: tunnel "edge": acme: conflicts with spiffe: the SPIFFE Workload API gives this tunnel's identity (its X.509-SVID)`,
		}},
		{"relative unix path", strings.Replace(spiffeServer, `"unix:///run/spire/agent.sock"`, `"unix://run/spire/agent.sock"`, 1), []string{
			`bad.hcl:6:5: tunnel "edge": spiffe.socket: "unix://run/spire/agent.sock": want unix:///absolute/path (three slashes)`,
		}},
		{"tcp host name", strings.Replace(spiffeServer, `"unix:///run/spire/agent.sock"`, `"tcp://spire:8081"`, 1), []string{
			`bad.hcl:6:5: tunnel "edge": spiffe.socket: "tcp://spire:8081": want tcp://ip:port (an IP address, not a host name)`,
		}},
		{"other scheme", strings.Replace(spiffeServer, `"unix:///run/spire/agent.sock"`, `"/run/spire/agent.sock"`, 1), []string{
			`bad.hcl:6:5: tunnel "edge": spiffe.socket: "/run/spire/agent.sock": want unix:///path or tcp://ip:port`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantExactErrors(t, tc.src, tc.want)
		})
	}
}

// --spiffe-socket makes the block; conflicts name the flags.
func TestSPIFFEFlags(t *testing.T) {
	c, err := fromFlags(t, ModeClient, "--listen", "127.0.0.1:7000", "--target", "10.0.0.2:8443",
		"--spiffe-socket", "unix:///run/spire/agent.sock", "--allow-uri", "spiffe://example.org/db")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Tunnels[0].SPIFFE; s == nil || s.Socket != "unix:///run/spire/agent.sock" {
		t.Errorf("spiffe block from flags: %+v", s)
	}
	_, err = fromFlags(t, ModeServer, "--listen", "0.0.0.0:8443", "--target", "127.0.0.1:8080",
		"--spiffe-socket", "unix:///run/spire/agent.sock", "--ca", "ca.crt")
	if err == nil || err.Error() != "flag --ca: conflicts with --spiffe-socket: the SPIFFE Workload API gives this tunnel's trust (the X.509 bundles of its trust domains)" {
		t.Errorf("--ca with --spiffe-socket: %v", err)
	}
}
