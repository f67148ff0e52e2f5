package pki

import (
	"crypto/tls"
	"errors"

	"github.com/passtunnel/passtunnel/config"
)

// acmeTLS1 is the ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737).
const acmeTLS1 = "acme-tls/1"

// isACMEChallenge is the ClientHello of a TLS-ALPN-01 validation: RFC 8737
// has the CA offer acme-tls/1 alone, with the domain as SNI. A client that
// offers it next to other protocols is an ordinary client.
func isACMEChallenge(hello *tls.ClientHelloInfo) bool {
	return hello.ServerName != "" && len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acmeTLS1
}

// refuseWithACME is the backstop of config's checks for tunnels that bypass
// config: an ACME certificate is a server identity, and the only one.
func refuseWithACME(t *config.Tunnel) error {
	a := t.ACME
	switch {
	case t.Mode != config.ModeServer:
		return fieldError(t, "acme", errors.New("only meaningful in server mode"))
	case t.Passphrase.IsSet():
		return fieldError(t, "acme", errors.New("conflicts with passphrase: give exactly one identity"))
	case t.TLS != nil && t.TLS.Cert != "":
		return fieldError(t, "acme", errors.New("conflicts with tls.cert: give exactly one identity"))
	case t.TLS != nil && t.TLS.SelfSigned:
		return fieldError(t, "acme", errors.New("conflicts with tls.self_signed: give exactly one identity"))
	case len(a.Domains) == 0:
		return fieldError(t, "acme.domains", errors.New("required: at least one domain to get a certificate for"))
	case t.Listen.Network != config.NetTCP:
		return fieldError(t, "listen", errors.New("acme needs a host:port listener: the CA connects to it to validate the domain"))
	}
	return nil
}
