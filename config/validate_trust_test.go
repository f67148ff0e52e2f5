package config

import (
	"strings"
	"testing"
)

var testPin = `"SHA256` + strings.Repeat(":ab", 32) + `"`

// Pins, self-signed certificates, allow lists and shared secrets that make
// sense are accepted.
func TestTrustSettingsAccepted(t *testing.T) {
	t.Setenv("PT_TEST_SECRET", "a shared secret")
	src := `tunnel "self" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"
  shared_secret = env("PT_TEST_SECRET")
  tls {
    self_signed = true
    pin         = [` + testPin + `]
  }
  allow {
    cn  = ["app"]
    dns = ["*.example.com", "**.internal"]
    uri = ["spiffe://prod/**", "spiffe://*/node/a"]
    ou  = ["ops"]
  }
}
tunnel "pinned" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "unix:/run/db.sock"
  shared_secret = "literal secret"
  tls {
    pin = [` + strings.ToUpper(testPin) + `]
  }
  allow { cn = ["db"] }
}
tunnel "both" {
  mode   = "client"
  listen = "127.0.0.1:6381"
  target = "db:6380"
  tls {
    ca  = "ca.crt"
    pin = [` + strings.ToLower(testPin) + `]
  }
}
tunnel "nodes" {
  mode   = "server"
  listen = "0.0.0.0:6382"
  target = "127.0.0.1:6379"
  passphrase = env("PT_TEST_SECRET")
  allow_weak_passphrase = true
  allow { uri = ["spiffe://passtunnel/node/*"] }
}`
	c, err := Parse([]byte(src), "ok.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Tunnels[0].SharedSecret.IsSet() || !c.Tunnels[0].TLS.SelfSigned || len(c.Tunnels[1].TLS.Pin) != 1 {
		t.Errorf("settings lost: %+v", c.Tunnels)
	}
}

var brokenTrustConfigs = []brokenConfig{
	{"allow partial wildcard", `tunnel "a" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"
  tls {
    cert = "tls.crt"
    ca   = "ca.crt"
  }
  allow {
    cn  = ["web-*"]
    dns = ["web-*.example.com"]
    uri = ["spiffe://prod/n*"]
  }
}`, []string{
		`bad.hcl:11:5: tunnel "a": allow.dns: pattern "web-*.example.com": segment "web-*": a wildcard must be a whole segment, * (exactly one) or ** (one or more)`,
		`bad.hcl:12:5: tunnel "a": allow.uri: pattern "spiffe://prod/n*": segment "n*": a wildcard must be a whole segment, * (exactly one) or ** (one or more)`,
	}},
	{"allow and pin that check nothing", `tunnel "a" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"
  tls {
    self_signed = true
    client_auth = "none"
    pin         = [` + testPin + `]
  }
  allow { cn = ["x"] }
}
tunnel "b" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls { insecure_skip_verify = true }
  allow { ou = ["x"] }
}`, []string{
		`bad.hcl:8:5: tunnel "a": tls.pin: has no effect with tls.client_auth = "none": clients are not verified`,
		`bad.hcl:10:11: tunnel "a": allow.cn: has no effect with tls.client_auth = "none": clients show no certificate to check`,
		`bad.hcl:17:11: tunnel "b": allow.ou: has no effect with tls.insecure_skip_verify: an unverified server can claim any name`,
	}},
	{"self_signed misplaced", `tunnel "a" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"
  tls {
    cert        = "tls.crt"
    self_signed = true
    client_auth = "none"
  }
}
tunnel "b" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls {
    self_signed = true
    pin         = ["SHA256:AB"]
  }
}`, []string{
		`bad.hcl:7:5: tunnel "a": tls.self_signed: conflicts with tls.cert: give exactly one identity`,
		`bad.hcl:16:5: tunnel "b": tls.self_signed: only meaningful in server mode`,
		`bad.hcl:17:5: tunnel "b": tls.pin: invalid pin "SHA256:AB"; want SHA256: and 32 hex bytes, as ` + "`passtunnel pki fingerprint`" + ` prints`,
	}},
}

func TestBrokenTrustConfigs(t *testing.T) { runBrokenConfigs(t, brokenTrustConfigs) }
