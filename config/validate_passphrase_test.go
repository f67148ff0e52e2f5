package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The reasons passphrase conflicts give, spelled out so that a change of
// wording is a deliberate one.
const (
	ppIdentity = "the passphrase is this tunnel's identity (a node certificate of the cluster)"
	ppTrust    = "the passphrase is this tunnel's trust (peers must present a node certificate of the cluster)"
)

// A passphrase is identity and trust: neither mode needs a certificate or a
// CA, and the settings of the handshake itself stay available.
func TestPassphraseTunnels(t *testing.T) {
	dir := secretDir(t)
	src := `tunnel "s" {
  mode       = "server"
  listen     = "0.0.0.0:6380"
  target     = "127.0.0.1:6379"
  passphrase = file("p")
}
tunnel "s2" {
  mode       = "server"
  listen     = "0.0.0.0:6381"
  target     = "127.0.0.1:6379"
  passphrase = env("PT_TEST_SECRET")
  previous_passphrases = ["an older passphrase, long enough", env("PT_TEST_SECRET")]
  cluster    = "prod"
  allow_weak_passphrase = true
  tls {
    client_auth   = "require"
    min_version   = "1.2"
    max_version   = "1.2"
    cipher_suites = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    curves        = ["SecP384r1MLKEM1024", "x25519"]
    alpn          = ["redis"]
  }
}
tunnel "c" {
  mode       = "client"
  listen     = "127.0.0.1:6379"
  target     = "unix:/run/tls.sock"
  passphrase = file("p")
}
tunnel "c2" {
  mode       = "client"
  listen     = "127.0.0.1:6378"
  target     = "db:6380"
  passphrase = file("p")
  tls {
    server_name = "db.internal"
    min_version = "1.3"
  }
}`
	c, err := Parse([]byte(src), filepath.Join(dir, "ok.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tu := range c.Tunnels {
		if tu.Passphrase.Reveal() != secretValue {
			t.Errorf("tunnel %q: passphrase from %s does not hold the secret", tu.Name, tu.Passphrase.Source)
		}
	}
	s2 := c.Tunnels[1]
	if len(s2.PreviousPassphrases) != 2 || s2.Cluster != "prod" || !s2.AllowWeakPassphrase {
		t.Errorf("s2 = %+v", s2)
	}
	want := &TLS{Pos: s2.TLS.Pos, ClientAuth: "require", MinVersion: "1.2", MaxVersion: "1.2", SessionLifetime: DefaultSessionLifetime, Verify: VerifyChain,
		CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		Curves:       []string{"SecP384r1MLKEM1024", "x25519"}, ALPN: []string{"redis"}}
	if !reflect.DeepEqual(s2.TLS, want) {
		t.Errorf("s2 tls = %+v", s2.TLS)
	}
}

// Each setting a passphrase overrides is refused where it is written; no
// message carries a passphrase read with file() or env().
func TestPassphraseConflicts(t *testing.T) {
	dir := secretDir(t)
	cases := []brokenConfig{
		{"server with certificate settings", `tunnel "s" {
  mode       = "server"
  listen     = "0.0.0.0:6380"
  target     = "127.0.0.1:6379"
  passphrase = file("p")
  tls {
    cert        = "tls.crt"
    key         = "tls.key"
    ca          = "ca.crt"
    pin         = ["SHA256` + strings.Repeat(":AB", 32) + `"]
    self_signed = true
    client_auth = "request"
  }
  acme { domains = ["edge.example.com"] }
}`, []string{
			`bad.hcl:7:5: tunnel "s": tls.cert: conflicts with passphrase: ` + ppIdentity,
			`bad.hcl:8:5: tunnel "s": tls.key: conflicts with passphrase: ` + ppIdentity,
			`bad.hcl:9:5: tunnel "s": tls.ca: conflicts with passphrase: ` + ppTrust,
			`bad.hcl:10:5: tunnel "s": tls.pin: conflicts with passphrase: ` + ppTrust,
			`bad.hcl:11:5: tunnel "s": tls.self_signed: conflicts with passphrase: ` + ppIdentity,
			`bad.hcl:12:5: tunnel "s": tls.client_auth: conflicts with passphrase: a passphrase tunnel always requires and verifies client certificates; leave it out or set tls.client_auth = "require"`,
			`bad.hcl:14:3: tunnel "s": acme: conflicts with passphrase: ` + ppIdentity,
		}},
		{"server without client auth", `tunnel "s" {
  mode       = "server"
  listen     = "0.0.0.0:6380"
  target     = "127.0.0.1:6379"
  passphrase = env("PT_TEST_SECRET")
  tls { client_auth = "none" }
}`, []string{
			`bad.hcl:6:9: tunnel "s": tls.client_auth: conflicts with passphrase: a passphrase tunnel always requires and verifies client certificates; leave it out or set tls.client_auth = "require"`,
		}},
		{"client with trust settings", `tunnel "c" {
  mode       = "client"
  listen     = "127.0.0.1:6379"
  target     = "db:6380"
  passphrase = env("PT_TEST_SECRET")
  tls {
    ca                   = "ca.crt"
    system_roots         = true
    insecure_skip_verify = true
    cert                 = file("p")
  }
}`, []string{
			`bad.hcl:7:5: tunnel "c": tls.ca: conflicts with passphrase: ` + ppTrust,
			`bad.hcl:8:5: tunnel "c": tls.system_roots: conflicts with passphrase: ` + ppTrust,
			`bad.hcl:9:5: tunnel "c": tls.insecure_skip_verify: conflicts with passphrase: ` + ppTrust,
			`bad.hcl:10:5: tunnel "c": tls.cert: conflicts with passphrase: ` + ppIdentity,
		}},
		{"a secret in a plain field is redacted", `tunnel "s" {
  mode       = "server"
  listen     = "0.0.0.0:6380"
  target     = "127.0.0.1:6379"
  passphrase = file("p")
  tls { client_auth = env("PT_TEST_SECRET") }
}`, []string{
			`bad.hcl:6:9: tunnel "s": tls.client_auth: invalid value "[redacted]"; want "none", "request" or "require"`,
		}},
		{"passphrase settings without a passphrase", `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls { ca = "ca.crt" }
  previous_passphrases  = [file("p"), env("PT_TEST_SECRET")]
  allow_weak_passphrase = true
}`, []string{
			`bad.hcl:6:3: tunnel "c": previous_passphrases: needs passphrase: previous passphrases are trusted only beside a current one`,
			`bad.hcl:7:3: tunnel "c": allow_weak_passphrase: needs passphrase or shared_secret: there is no secret to relax the policy for`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), filepath.Join(dir, "bad.hcl"))
			if err == nil {
				t.Fatal("config accepted")
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			if want := strings.Join(tc.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Error("an error shows the passphrase")
			}
		})
	}
}

// Defaults and explicit defaults are not "set": a file may spell them out.
func TestPassphraseDefaultsWithoutPassphrase(t *testing.T) {
	src := strings.Replace(okServer, "  tls {", "  previous_passphrases = []\n  allow_weak_passphrase = false\n  tls {", 1)
	if _, err := Parse([]byte(src), "ok.hcl"); err != nil {
		t.Error(err)
	}
}
