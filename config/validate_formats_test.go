package config

import (
	"strings"
	"testing"
)

var brokenFormatConfigs = []brokenConfig{
	{"pkcs12 beside cert", withTLS("    pkcs12 = \"node.p12\"\n"), []string{
		`bad.hcl:8:5: tunnel "redis": tls.pkcs12: conflicts with tls.cert: give exactly one identity`,
	}},
	{"key_passphrase with nothing to open", strings.Replace(okServer, `    cert = "tls.crt"`,
		`    self_signed = true
    key_passphrase = "hunter2-hunter2"`, 1), []string{
		`bad.hcl:7:5: tunnel "redis": tls.key_passphrase: has no effect: it opens the key of tls.cert/tls.key or tls.pkcs12, and none is set`,
	}},
}

func TestBrokenFormatConfigs(t *testing.T) { runBrokenConfigs(t, brokenFormatConfigs) }
