package config

import "strings"

// withTLS adds lines to the tls block of okServer (they start at line 8).
func withTLS(lines string) string {
	return strings.Replace(okServer, "    ca   = \"ca.crt\"\n", "    ca   = \"ca.crt\"\n"+lines, 1)
}

var brokenTLSConfigs = []brokenConfig{
	{"tls versions", withTLS(`    min_version = "1.3"
    max_version = "1.2"
  }
  tls {
    min_version = "1.1"
`), []string{
		`bad.hcl:8:5: tunnel "redis": tls.min_version: "1.3" is above tls.max_version "1.2"`,
		`bad.hcl:11:3: tunnel "redis": tls: duplicate block; the first is at bad.hcl:5:3`,
	}},
	{"bad tls version value", withTLS("    max_version = \"1.1\"\n"), []string{
		`bad.hcl:8:5: tunnel "redis": tls.max_version: invalid TLS version "1.1"; want "1.2" or "1.3"`,
	}},
	{"cipher suites and curves", withTLS(`    cipher_suites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "TLS_FOO"]
    curves = ["x25519", "P-192"]
    alpn = ["h2", ""]
`), []string{
		`bad.hcl:8:5: tunnel "redis": tls.cipher_suites: "TLS_AES_128_GCM_SHA256" is a TLS 1.3 suite; TLS 1.3 suites are not configurable`,
		`bad.hcl:8:5: tunnel "redis": tls.cipher_suites: cipher suite "TLS_RSA_WITH_RC4_128_SHA" is insecure`,
		`bad.hcl:8:5: tunnel "redis": tls.cipher_suites: unknown cipher suite "TLS_FOO"`,
		`bad.hcl:9:5: tunnel "redis": tls.curves: unknown curve "P-192"; want X25519, X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024, P-256, P-384 or P-521`,
		`bad.hcl:10:5: tunnel "redis": tls.alpn: invalid protocol "": want 1 to 255 bytes`,
	}},
	{"cipher suites with TLS 1.3 only", withTLS(`    min_version   = "1.3"
    cipher_suites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
`), []string{
		`bad.hcl:9:5: tunnel "redis": tls.cipher_suites: apply only to TLS 1.2, which tls.min_version = "1.3" excludes`,
	}},
	{"client_auth", withTLS("    client_auth = \"optional\"\n") + `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls {
    ca          = "ca.crt"
    client_auth = "require"
  }
}`, []string{
		`bad.hcl:8:5: tunnel "redis": tls.client_auth: invalid value "optional"; want "none", "request" or "require"`,
		`bad.hcl:17:5: tunnel "c": tls.client_auth: only meaningful in server mode`,
	}},
	{"client settings on a server", withTLS(`    server_name = "db"
    system_roots = true
    insecure_skip_verify = true
`), []string{
		`bad.hcl:8:5: tunnel "redis": tls.server_name: only meaningful in client mode`,
		`bad.hcl:9:5: tunnel "redis": tls.system_roots: only meaningful in client mode`,
		`bad.hcl:10:5: tunnel "redis": tls.insecure_skip_verify: only meaningful in client mode`,
	}},
	{"type errors", withTLS(`    system_roots = "yes"
    alpn = "h2"
    server_name = ["a"]
`), []string{
		`bad.hcl:8:5: tunnel "redis": tls.system_roots: must be true or false`,
		`bad.hcl:9:5: tunnel "redis": tls.alpn: must be a list of strings`,
		`bad.hcl:10:5: tunnel "redis": tls.server_name: must be a string`,
	}},
	{"bad pin", withTLS("    pin = [\"SHA1:AB\"]\n"), []string{
		"bad.hcl:8:5: tunnel \"redis\": tls.pin: invalid pin \"SHA1:AB\"; want SHA256: and 32 hex bytes, as `passtunnel pki fingerprint` prints",
	}},
	{"two identities", withTLS("    self_signed = true\n"), []string{
		`bad.hcl:8:5: tunnel "redis": tls.self_signed: conflicts with tls.cert: give exactly one identity`,
	}},
	{"server needs client CA", `tunnel "redis" {
  mode   = "server"
  listen = "0.0.0.0:6380"
  target = "127.0.0.1:6379"
  tls { cert = "tls.crt" }
}
tunnel "b" {
  mode   = "server"
  listen = "0.0.0.0:6381"
  target = "127.0.0.1:6379"
  tls {
    cert        = "tls.crt"
    client_auth = "request"
  }
}
tunnel "c" {
  mode   = "server"
  listen = "0.0.0.0:6382"
  target = "127.0.0.1:6379"
  tls {
    cert        = "tls.crt"
    ca          = "ca.crt"
    client_auth = "none"
  }
}`, []string{
		`bad.hcl:5:3: tunnel "redis": tls.ca: tls.client_auth = "require" needs tls.ca to verify client certificates; set it, or tls.client_auth = "none" to accept any client`,
		`bad.hcl:13:5: tunnel "b": tls.client_auth: tls.client_auth = "request" needs tls.ca to verify client certificates; set it, or tls.client_auth = "none" to accept any client`,
		`bad.hcl:22:5: tunnel "c": tls.ca: has no effect with tls.client_auth = "none": clients are not verified`,
	}},
	{"key without cert", `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls {
    key = "tls.key"
    ca  = "ca.crt"
  }
}`, []string{`bad.hcl:6:5: tunnel "c": tls.key: needs tls.cert: a key alone is no identity`}},
	{"client that verifies nothing", `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls { cert = "c.pem" }
}
tunnel "d" {
  mode   = "client"
  listen = "127.0.0.1:6378"
  target = "db:6380"
}`, []string{
		`bad.hcl:5:3: tunnel "c": tls.ca: a client tunnel that verifies nothing is refused: set tls.ca, tls.system_roots or passphrase (or tls.insecure_skip_verify = true to encrypt without verifying, for debugging only)`,
		`bad.hcl:7:1: tunnel "d": tls.ca: a client tunnel that verifies nothing is refused: set tls.ca, tls.system_roots or passphrase (or tls.insecure_skip_verify = true to encrypt without verifying, for debugging only)`,
	}},
	{"insecure with trust", `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls {
    system_roots         = true
    insecure_skip_verify = true
  }
}`, []string{`bad.hcl:7:5: tunnel "c": tls.insecure_skip_verify: conflicts with tls.system_roots: it would turn that verification off`}},
	{"unix target needs server_name", `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "unix:/run/tls.sock"
  tls { ca = "ca.crt" }
}`, []string{`bad.hcl:5:3: tunnel "c": tls.server_name: required with a unix target: it is the name the server certificate must carry`}},
}
