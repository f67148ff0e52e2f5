package config

import (
	"errors"
	"strings"
	"testing"
)

// A server tunnel that is valid as it stands; cases append to or replace it.
const okServer = `tunnel "redis" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"
  tls {
    cert = "tls.crt"
    ca   = "ca.crt"
  }
}
`

// brokenConfig is a config and every message it must produce, in order.
type brokenConfig struct {
	name string
	src  string
	want []string
}

var brokenConfigs = []brokenConfig{
	{"unknown argument", `tunnel "redis" {
  mode   = "server"
  lisen  = "0.0.0.0:6380"
}`, []string{
		`bad.hcl:1:1: tunnel "redis": listen: missing; want host:port or unix:/path`,
		`bad.hcl:1:1: tunnel "redis": target: missing; want host:port or unix:/path`,
		`bad.hcl:1:1: tunnel "redis": tls.cert: a server tunnel needs an identity: set tls.cert (and tls.key) or passphrase`,
		`bad.hcl:1:1: tunnel "redis": tls.ca: tls.client_auth = "require" needs tls.ca to verify client certificates; set it, or tls.client_auth = "none" to accept any client`,
		`bad.hcl:3:3: tunnel "redis": Unsupported argument: An argument named "lisen" is not expected here. Did you mean "listen"?`,
	}},
	{"unknown block and top-level argument", okServer + `tsl {}
loglevel = "info"`, []string{
		`bad.hcl:10:1: Unsupported block type: Blocks of type "tsl" are not expected here.`,
		`bad.hcl:11:1: Unsupported argument: An argument named "loglevel" is not expected here. Did you mean "log_level"?`,
	}},
	{"missing mode", `tunnel "a" {
  listen = "127.0.0.1:1"
  target = "127.0.0.1:2"
}`, []string{`bad.hcl:1:1: tunnel "a": mode: missing; want "server" or "client"`}},
	{"bad mode", strings.Replace(okServer, `"server"`, `"proxy"`, 1), []string{
		`bad.hcl:2:3: tunnel "redis": mode: invalid mode "proxy"; want "server" or "client"`,
	}},
	{"duplicate tunnel name", okServer + strings.Replace(okServer, "6380", "6390", 1), []string{
		`bad.hcl:10:1: tunnel "redis": duplicate tunnel name; the first is at bad.hcl:1:1`,
	}},
	{"listen overlaps the IPv4 wildcard", okServer + strings.NewReplacer(`"redis"`, `"b"`, "0.0.0.0", "127.0.0.1").Replace(okServer), []string{
		`bad.hcl:12:3: tunnel "b": listen: "127.0.0.1:6380" overlaps listen "0.0.0.0:6380" of tunnel "redis" at bad.hcl:3:3`,
	}},
	{"listen overlaps the IPv6 wildcard", strings.Replace(okServer, "0.0.0.0", "[::]", 1) +
		strings.NewReplacer(`"redis"`, `"b"`, "0.0.0.0", "[::1]").Replace(okServer), []string{
		`bad.hcl:12:3: tunnel "b": listen: "[::1]:6380" overlaps listen "[::]:6380" of tunnel "redis" at bad.hcl:3:3`,
	}},
	{"same unix socket", strings.Replace(okServer, "0.0.0.0:6380", "unix:/run/a.sock", 1) +
		strings.NewReplacer(`"redis"`, `"b"`, "0.0.0.0:6380", "unix:/run/x/../a.sock").Replace(okServer), []string{
		`bad.hcl:12:3: tunnel "b": listen: "unix:/run/x/../a.sock" overlaps listen "unix:/run/a.sock" of tunnel "redis" at bad.hcl:3:3`,
	}},
	{"bad duration", `tunnel "redis" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  limits { handshake_timeout = "10x" }
  target = "127.0.0.1:6379"
  tls {
    cert = "c"
    ca   = "ca"
  }
}`, []string{`bad.hcl:4:12: tunnel "redis": limits.handshake_timeout: invalid duration "10x"`}},
	{"negative and zero durations", strings.Replace(okServer, "  tls {", `  limits {
    idle_timeout    = "-1s"
    connect_timeout = "0s"
    drain_timeout   = 30
  }
  tls {`, 1), []string{
		`bad.hcl:6:5: tunnel "redis": limits.idle_timeout: must not be negative`,
		`bad.hcl:7:5: tunnel "redis": limits.connect_timeout: must be more than 0: every wait needs a bound`,
		`bad.hcl:8:5: tunnel "redis": limits.drain_timeout: invalid duration "30"`,
	}},
	{"negative target_check", strings.Replace(okServer, "  tls {", "  target_check = \"-1s\"\n  tls {", 1),
		[]string{`bad.hcl:5:3: tunnel "redis": target_check: must not be negative`}},
	{"bad limits", strings.Replace(okServer, "  tls {", `  limits {
    max_connections = 0
    accept_rate     = -1
    per_source_rate = "fast"
    per_source_handshakes = -1
    max_handshakes = -2
  }
  tls {`, 1), []string{
		`bad.hcl:6:5: tunnel "redis": limits.max_connections: must be at least 1, not 0`,
		`bad.hcl:7:5: tunnel "redis": limits.accept_rate: must not be negative (0 means unlimited)`,
		`bad.hcl:8:5: tunnel "redis": limits.per_source_rate: must be a number`,
		`bad.hcl:9:5: tunnel "redis": limits.per_source_handshakes: must not be negative (0 means no limit)`,
		`bad.hcl:10:5: tunnel "redis": limits.max_handshakes: must not be negative (0 means sized to the CPUs)`,
	}},
	{"fractional max_connections", strings.Replace(okServer, "  tls {", "  limits { max_connections = 1.5 }\n  tls {", 1), []string{
		`bad.hcl:5:12: tunnel "redis": limits.max_connections: must be a whole number`,
	}},
	{"fractional per_source_handshakes", strings.Replace(okServer, "  tls {", "  limits { per_source_handshakes = 0.5 }\n  tls {", 1), []string{
		`bad.hcl:5:12: tunnel "redis": limits.per_source_handshakes: must be a whole number`,
	}},
	{"huge max_connections", strings.Replace(okServer, "  tls {", "  limits { max_connections = 1e40 }\n  tls {", 1), []string{
		`bad.hcl:5:12: tunnel "redis": limits.max_connections: is out of range`,
	}},
	{"bad listen addresses", `tunnel "a" {
  mode   = "server"
  listen = "::1:80"
  target = "127.0.0.1:70000"
}
tunnel "b" {
  mode   = "server"
  listen = "localhost"
  target = "unix:"
}`, []string{
		`bad.hcl:1:1: tunnel "a": tls.cert: a server tunnel needs an identity: set tls.cert (and tls.key) or passphrase`,
		`bad.hcl:1:1: tunnel "a": tls.ca: tls.client_auth = "require" needs tls.ca to verify client certificates; set it, or tls.client_auth = "none" to accept any client`,
		`bad.hcl:3:3: tunnel "a": listen: invalid address "::1:80": an IPv6 address needs brackets and a port, like "[::1]:443"`,
		`bad.hcl:4:3: tunnel "a": target: invalid address "127.0.0.1:70000": port must be a number from 0 to 65535`,
		`bad.hcl:6:1: tunnel "b": tls.cert: a server tunnel needs an identity: set tls.cert (and tls.key) or passphrase`,
		`bad.hcl:6:1: tunnel "b": tls.ca: tls.client_auth = "require" needs tls.ca to verify client certificates; set it, or tls.client_auth = "none" to accept any client`,
		`bad.hcl:8:3: tunnel "b": listen: invalid address "localhost": want host:port or unix:/path`,
		`bad.hcl:9:3: tunnel "b": target: invalid address "unix:": empty socket path`,
	}},
	{"bad targets", strings.Replace(okServer, `"127.0.0.1:6379"`, `"db:0"`, 1) +
		strings.NewReplacer(`"redis"`, `"b"`, "0.0.0.0:6380", "[::1]:7000", `"127.0.0.1:6379"`, `":80"`).Replace(okServer) +
		strings.NewReplacer(`"redis"`, `"c"`, "0.0.0.0:6380", "127.0.0.1:7001", `"127.0.0.1:6379"`, `"localhost:7001"`).Replace(okServer), []string{
		`bad.hcl:4:3: tunnel "redis": target: invalid address "db:0": port 0 cannot be dialled`,
		`bad.hcl:13:3: tunnel "b": target: invalid address ":80": missing host`,
		`bad.hcl:22:3: tunnel "c": target: "localhost:7001" is the tunnel's own listen address: it would connect to itself`,
	}},
	{"top level values", "log_level = \"loud\"\nlog_format = \"xml\"\n" + okServer, []string{
		`bad.hcl:1:1: log_level: invalid value "loud"; want debug, info, warn or error`,
		`bad.hcl:2:1: log_format: invalid value "xml"; want text or json`,
	}},
	{"env unset in a plain field", strings.Replace(okServer, `"tls.crt"`, `env("PT_TEST_UNSET")`, 1), []string{
		`bad.hcl:6:12: tunnel "redis": Error in function call: Call to function "env" failed: environment variable PT_TEST_UNSET is not set.`,
	}},
	{"no tunnel", `log_level = "info"`, []string{`bad.hcl:1:1: no tunnel defined; add a tunnel "NAME" { ... } block`}},
	{"syntax error", `tunnel "a" {
  mode = 
}`, []string{`bad.hcl:2:10: Invalid expression: Expected the start of an expression, but found an invalid expression token.`}},
	{"bad names", strings.NewReplacer(`"redis"`, `"a b"`, `tls {`, "cluster = \"Prod_1\"\n  tls {").Replace(okServer), []string{
		`bad.hcl:1:1: tunnel "a b": name: invalid tunnel name "a b"; use letters, digits, '.', '_' and '-'`,
		`bad.hcl:5:3: tunnel "a b": cluster: invalid cluster name "Prod_1"; use lower-case letters, digits and '-' (it becomes a DNS label)`,
	}},
	{"proxy protocol values", strings.Replace(okServer, "  tls {", `  proxy_protocol {
    accept   = "v3"
    send     = "v9"
    trusted  = ["10.0.0.0/8", "nope"]
    tls_tlvs = true
  }
  tls {`, 1), []string{
		`bad.hcl:6:5: tunnel "redis": proxy_protocol.accept: invalid value "v3"; want "none", "v1", "v2" or "any"`,
		`bad.hcl:7:5: tunnel "redis": proxy_protocol.send: invalid value "v9"; want "none", "v1" or "v2"`,
		`bad.hcl:8:5: tunnel "redis": proxy_protocol.trusted: invalid CIDR "nope"`,
		`bad.hcl:9:5: tunnel "redis": proxy_protocol.tls_tlvs: needs send = "v2": only v2 headers carry TLVs`,
	}},
	{"proxy protocol accept needs trusted", strings.Replace(okServer, "  tls {", "  proxy_protocol { accept = \"any\" }\n  tls {", 1), []string{
		`bad.hcl:5:3: tunnel "redis": proxy_protocol.trusted: required when accept is "any": only these sources may send a header`,
	}},
	{"acme without domains", strings.Replace(okServer, "  tls {", "  acme { ca = \"http://x\" }\n  tls {", 1), []string{
		`bad.hcl:5:3: tunnel "redis": acme: conflicts with tls.cert: give exactly one identity`,
		`bad.hcl:5:3: tunnel "redis": acme.domains: required: at least one domain to get a certificate for`,
		`bad.hcl:5:10: tunnel "redis": acme.ca: invalid directory URL "http://x"; want https://...`,
	}},
}

func TestBrokenConfigs(t *testing.T) {
	runBrokenConfigs(t, brokenConfigs)
	runBrokenConfigs(t, brokenTLSConfigs)
}

// runBrokenConfigs is the check of every table of broken configs: each is
// refused, without a config, with Errors that say exactly tc.want.
func runBrokenConfigs(t *testing.T, cases []brokenConfig) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.src), "bad.hcl")
			if err == nil {
				t.Fatalf("config accepted: %+v", c)
			}
			if c != nil {
				t.Errorf("a config came back with the error")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error is %T, not Errors", err)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
