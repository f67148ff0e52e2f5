package daemon

import (
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// check's plan states what tls.verify makes of the peer's certificate.
func TestPlanStatesVerifyMode(t *testing.T) {
	for _, tc := range []struct {
		mode config.Mode
		tls  config.TLS
		want string
	}{
		{config.ModeClient, config.TLS{CA: "ca.crt", Verify: "chain"}, "verify    chain to tls.ca, no name check\n"},
		{config.ModeClient, config.TLS{CA: "ca.crt", Verify: "name"}, "verify    chain to tls.ca and the server name in a SAN\n"},
		{config.ModeClient, config.TLS{Pin: []string{"SHA256:AB"}, Verify: "pin"}, "verify    pin: the peer's leaf is one of tls.pin, no CA\n"},
		{config.ModeServer, config.TLS{CA: "ca.crt", Verify: "chain", ClientAuth: "require", CRL: []string{"r.crl"}},
			"chain to tls.ca, no name check (client certificates are never checked by name)\n  crl       peers revoked by r.crl"},
	} {
		var b strings.Builder
		tun := &config.Tunnel{Mode: tc.mode, TLS: &tc.tls}
		writeTrustPlan(&b, tun)
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s %+v: plan\n%s\nlacks %q", tc.mode, tc.tls, b.String(), tc.want)
		}
	}
}
