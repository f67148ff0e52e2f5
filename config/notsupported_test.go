package config

import (
	"strings"
	"testing"
)

// Features of later issues are refused, each at its own position, when set
// to anything but the default. Tunnel "p" sets every passphrase setting,
// and "redis" the rate limits and proxy_protocol, which have landed: they
// must produce no message.
func TestNotSupportedYet(t *testing.T) {
	t.Setenv("PT_TEST_PASSPHRASE", "correct horse battery staple")
	src := `admin = "127.0.0.1:9090"
tunnel "redis" {
  mode = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"
  tls {
    cert = "tls.crt"
    ca   = "ca.crt"
    pin  = ["SHA256` + strings.Repeat(":AB", 32) + `"]
  }
  shared_secret = env("PT_TEST_PASSPHRASE")
  allow {
    cn  = ["a"]
    dns = ["b"]
    uri = ["spiffe://c/*"]
    ou  = ["d"]
  }
  limits {
    accept_rate = 5
    per_source_rate = 0.5
  }
  proxy_protocol {
    accept = "v2"
    trusted = ["10.0.0.0/8"]
    send = "v2"
    tls_tlvs = true
  }
}
tunnel "b" {
  mode   = "server"
  listen = "0.0.0.0:6381"
  target = "127.0.0.1:6379"
  tls {
    self_signed = true
    client_auth = "none"
  }
  allow {}
}
tunnel "c" {
  mode   = "server"
  listen = "0.0.0.0:6382"
  target = "127.0.0.1:6379"
  tls { client_auth = "none" }
  acme { domains = ["edge.example.com"] }
}
tunnel "p" {
  mode   = "client"
  listen = "127.0.0.1:6383"
  target = "db:6380"
  passphrase = env("PT_TEST_PASSPHRASE")
  previous_passphrases = ["an older passphrase, long enough"]
  cluster = "prod"
  allow_weak_passphrase = true
}`
	// admin has landed too: nothing is left to refuse.
	if _, err := Parse([]byte(src), "bad.hcl"); err != nil {
		t.Errorf("config refused:\n%v", err)
	}
}
