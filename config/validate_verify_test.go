package config

import (
	"strings"
	"testing"
)

// clientWith is a client tunnel "c" whose tls block holds lines (from line 6).
func clientWith(lines string) string {
	return `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:6379"
  target = "db:6380"
  tls {
` + lines + `  }
}
`
}

var brokenVerifyConfigs = []brokenConfig{
	{"verify value and server name mode", withTLS("    verify = \"names\"\n") + "\n" +
		`tunnel "s2" {
  mode   = "server"
  listen = "0.0.0.0:6381"
  target = "127.0.0.1:6379"
  tls {
    cert   = "tls.crt"
    ca     = "ca.crt"
    verify = "name"
    legacy_common_name = true
  }
}
`, []string{
		`bad.hcl:8:5: tunnel "redis": tls.verify: invalid value "names"; want "name", "chain" or "pin"`,
		`bad.hcl:19:5: tunnel "s2": tls.verify: "name": a server has no name to check client certificates against; use "chain" and narrow with allow { }`,
		`bad.hcl:20:5: tunnel "s2": tls.legacy_common_name: only meaningful in client mode (client certificates are not checked by name)`,
	}},
	{"pin without pins", clientWith("    verify = \"pin\"\n    insecure_skip_verify = true\n"), []string{
		`bad.hcl:6:5: tunnel "c": tls.verify: tls.verify = "pin" needs tls.pin`,
	}},
	{"pin with a CA", clientWith("    verify = \"pin\"\n    ca = \"ca.crt\"\n    pin = [\"SHA256:" + pinHex + "\"]\n"), []string{
		`bad.hcl:7:5: tunnel "c": tls.ca: has no effect with tls.verify = "pin": only tls.pin is checked`,
	}},
	{"chain with pins alone", clientWith("    verify = \"chain\"\n    pin = [\"SHA256:" + pinHex + "\"]\n"), []string{
		`bad.hcl:6:5: tunnel "c": tls.verify: tls.verify = "chain" needs tls.ca to chain to; with tls.pin alone use tls.verify = "pin"`,
	}},
	{"legacy CN without a name check", clientWith("    ca = \"ca.crt\"\n    verify = \"chain\"\n    legacy_common_name = true\n"), []string{
		`bad.hcl:8:5: tunnel "c": tls.legacy_common_name: has no effect: it relaxes the name check of tls.verify = "name" with tls.ca, which this tunnel does not do`,
	}},
	{"crl without ca, bad deny entries", strings.Replace(clientWith("    system_roots = true\n    crl = [\"r.crl\"]\n"), "  }\n}", "  }\n"+
		"  deny {\n    fingerprints = [\"SHA1:00\"]\n    serials = [\"0x1f\"]\n  }\n}", 1), []string{
		`bad.hcl:7:5: tunnel "c": tls.crl: needs tls.ca: a CRL is checked against the CA that signed it`,
		`bad.hcl:10:5: tunnel "c": deny.fingerprints: invalid fingerprint "SHA1:00"; want SHA256: and 32 hex bytes, as ` + "`passtunnel pki fingerprint`" + ` prints`,
		`bad.hcl:11:5: tunnel "c": deny.serials: invalid serial "0x1f"; want hex bytes separated by ':' ("0a:1b:2c") or decimal digits`,
	}},
}

const pinHex = "AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB"

func TestBrokenVerifyConfigs(t *testing.T) { runBrokenConfigs(t, brokenVerifyConfigs) }

func TestParseSerial(t *testing.T) {
	for in, want := range map[string]string{"0a:1b": "2587", "255": "255", "00:ff": "255"} {
		if n, err := ParseSerial(in); err != nil || n.String() != want {
			t.Errorf("ParseSerial(%q) = %v, %v; want %s", in, n, err, want)
		}
	}
	for _, in := range []string{"", "ab", "0x1f", "a:b", "1:", "-1", "0a:1g"} {
		if _, err := ParseSerial(in); err == nil {
			t.Errorf("ParseSerial(%q) accepted", in)
		}
	}
}
