package config

import (
	"reflect"
	"strings"
	"testing"
)

// The proxy_protocol and rate flags build the same settings as the HCL
// block; --proxy-protocol-trusted takes several CIDRs, repeated or
// comma-separated.
func TestFlagsProxyProtocolAndRates(t *testing.T) {
	c, err := fromFlags(t, ModeServer, "--listen", ":0", "--target", "h:1", "--self-signed", "--client-auth", "none",
		"--proxy-protocol-accept", "any", "--proxy-protocol-trusted", "10.0.0.0/8,192.0.2.1",
		"--proxy-protocol-trusted", "2001:db8::/32", "--proxy-protocol-send", "v2", "--proxy-protocol-tls-tlvs",
		"--accept-rate", "20", "--per-source-rate", "0.5")
	if err != nil {
		t.Fatal(err)
	}
	tn := c.Tunnels[0]
	want := ProxyProtocol{Accept: "any", Trusted: []string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"}, Send: "v2", TLSTLVs: true}
	if !reflect.DeepEqual(tn.ProxyProtocol, want) {
		t.Errorf("proxy_protocol = %+v, want %+v", tn.ProxyProtocol, want)
	}
	if tn.Limits.AcceptRate != 20 || tn.Limits.PerSourceRate != 0.5 {
		t.Errorf("limits = %+v", tn.Limits)
	}
	if got := tn.Where("proxy_protocol.trusted"); got != "flag --proxy-protocol-trusted" {
		t.Errorf("trusted set at %q", got)
	}
}

func TestFlagsProxyProtocolErrors(t *testing.T) {
	_, err := fromFlags(t, ModeServer, "--listen", ":0", "--target", "h:1", "--self-signed", "--client-auth", "none",
		"--proxy-protocol-accept", "v3", "--proxy-protocol-trusted", "nope", "--proxy-protocol-tls-tlvs")
	want := []string{
		`flag --proxy-protocol-accept: invalid value "v3"; want "none", "v1", "v2" or "any"`,
		`flag --proxy-protocol-trusted: invalid CIDR "nope"`,
		`flag --proxy-protocol-tls-tlvs: needs send = "v2": only v2 headers carry TLVs`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// A unix listener needs no trusted CIDRs: its peers are local processes
// admitted by the socket file's permissions. A tcp listener does.
func TestProxyProtocolTrustedOnUnixListen(t *testing.T) {
	src := strings.NewReplacer(`listen = "0.0.0.0:6380"`, `listen = "unix:/run/pt.sock"`,
		"  tls {", "  proxy_protocol { accept = \"v2\" }\n  tls {").Replace(okServer)
	if _, err := Parse([]byte(src), "ok.hcl"); err != nil {
		t.Errorf("unix listen with accept and no trusted: %v", err)
	}
}
