package pki

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/passtunnel/passtunnel/config"
)

// acmeTLS1 is the ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737).
const acmeTLS1 = "acme-tls/1"

// acmeServerEndpoint is the endpoint of a server tunnel whose certificate
// comes from an ACME CA. The CA validates the domain with TLS-ALPN-01 on
// this same listener: a ClientHello that offers only acme-tls/1 gets a
// config without client authentication (the CA has no client certificate)
// that can serve nothing but the challenge certificate; every other
// ClientHello gets the tunnel's client authentication.
func (m *Manager) acmeServerEndpoint(t *config.Tunnel) (*Endpoint, error) {
	if err := refuseWithACME(t); err != nil {
		return nil, err
	}
	st, key, err := m.acmeFor(t)
	if err != nil {
		return nil, err
	}
	// baseConfig and clientAuth read t.TLS; a tunnel without a tls
	// block gets the defaults (client_auth = "require", which then asks
	// for tls.ca).
	tt := *t
	if tt.TLS == nil {
		tt.TLS = config.DefaultTLS(config.ModeServer)
	}
	cfg, err := baseConfig(&tt)
	if err != nil {
		return nil, err
	}
	if slices.Contains(cfg.NextProtos, acmeTLS1) {
		return nil, fieldError(t, "tls.alpn", fmt.Errorf("%q is reserved for the ACME challenge", acmeTLS1))
	}
	v, err := clientAuth(&tt, cfg)
	if err != nil {
		return nil, err
	}
	cfg.GetCertificate = st.magic.GetCertificate
	e := endpoint(cfg, v)
	if !m.reload.off() { // tls.ca is followed like a file tunnel's
		if err := m.followServerFiles(&tt, e); err != nil {
			m.Release(cfg)
			return nil, err
		}
	}
	if resumes(t) {
		// The certificate depends on the ClientHello: no own to compare.
		g, tk := m.fileSessions(t)
		g.apply(cfg, tk)
	}
	challenge := &tls.Config{
		MinVersion:     tls.VersionTLS12, // RFC 8737 section 4
		NextProtos:     []string{acmeTLS1},
		ClientAuth:     tls.NoClientCert,
		GetCertificate: st.challengeCertificate,
		// A ticket from an unauthenticated handshake has no use, and
		// none should exist to be offered elsewhere.
		SessionTicketsDisabled: true,
	}
	inner := cfg.GetConfigForClient // the current CA names, when tls.ca is followed
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if isACMEChallenge(hello) {
			return challenge, nil
		}
		if inner != nil {
			return inner(hello)
		}
		return nil, nil // cfg itself
	}
	m.useACME(cfg, key)
	return e, nil
}

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

// Listening starts what a tunnel needs its bound listener for: for an
// acme tunnel, getting and renewing its certificate in the background,
// since the CA validates the domain by connecting to that listener. Call
// it after proxy.Listen (or Update) and before serving, with the bound
// address; calling it again for the same settings does nothing. Other
// tunnels have nothing to start.
func (m *Manager) Listening(t *config.Tunnel, addr net.Addr) error {
	if t.ACME == nil || t.Mode != config.ModeServer {
		return nil
	}
	st, _, err := m.acmeFor(t)
	if err != nil {
		return err
	}
	if err := st.start(addr); err != nil {
		return fieldError(t, "acme", err)
	}
	return nil
}
