package pki

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// acmeTLS1 is the ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737).
const acmeTLS1 = config.ACMEChallengeALPN

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
	case t.TLS != nil && t.TLS.PKCS12 != "":
		return fieldError(t, "acme", errors.New("conflicts with tls.pkcs12: give exactly one identity"))
	case t.TLS != nil && t.TLS.SelfSigned:
		return fieldError(t, "acme", errors.New("conflicts with tls.self_signed: give exactly one identity"))
	case len(a.Domains) == 0:
		return fieldError(t, "acme.domains", errors.New("required: at least one domain to get a certificate for"))
	case t.Listen.Network != config.NetTCP:
		return fieldError(t, "listen", errors.New("acme needs a host:port listener: the CA connects to it to validate the domain"))
	}
	return nil
}

// acmeSource is the identity an ACME CA issues: certificates that
// certmagic obtains and renews for acme.domains, validated with
// TLS-ALPN-01 on the tunnel's own listener. The state behind it (account,
// certificates, renewal schedule) is kept by the Manager per acme block
// and shared by the endpoints that serve it; each holds one reference.
// It is a server identity: a client tunnel is refused.
type acmeSource struct {
	m    *Manager
	t    *config.Tunnel // what the endpoint was built from, for errors
	st   *acmeState
	key  string   // of st in the Manager's registry
	used bool     // st counts this endpoint among its users
	refs fileRefs // tls.ca, followed like a file tunnel's
}

func newACMESource(m *Manager) identitySource { return &acmeSource{m: m, refs: fileRefs{r: m.reload}} }

// server builds the endpoint of a server tunnel whose certificate comes
// from an ACME CA. The CA validates the domain with TLS-ALPN-01 on this
// same listener: a ClientHello that offers only acme-tls/1 gets a config
// without client authentication (the CA has no client certificate) that
// can serve nothing but the challenge certificate; every other
// ClientHello gets the tunnel's client authentication.
func (s *acmeSource) server(t *config.Tunnel) (*Endpoint, error) {
	if err := refuseWithACME(t); err != nil {
		return nil, err
	}
	st, key, err := s.m.acmeFor(t)
	if err != nil {
		return nil, err
	}
	s.t, s.st, s.key = t, st, key
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
	v, err := clientAuth(&tt, cfg, s.m.log)
	if err != nil {
		return nil, err
	}
	cfg.GetCertificate = st.magic.GetCertificate
	e := endpoint(cfg, v)
	if !s.m.reload.off() { // tls.ca; there is no tls.cert to follow
		if _, err := s.refs.follow(&tt, e, serverSide, s.m.now); err != nil {
			return nil, err
		}
	}
	if resumes(t) {
		// The certificate depends on the ClientHello: no own to compare.
		g, tk := s.m.fileSessions(t)
		g.apply(cfg, tk)
	}
	answerChallenges(cfg, st)
	s.used = s.m.useACME(key, st)
	return e, nil
}

// answerChallenges gives a ClientHello of a TLS-ALPN-01 validation its
// own config, which serves the challenge certificate and nothing else.
func answerChallenges(cfg *tls.Config, st *acmeState) {
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
}

func (s *acmeSource) client(t *config.Tunnel, _ string) (*Endpoint, error) {
	return nil, refuseWithACME(t) // a server identity: refused in client mode
}

// expiry asks certmagic's cache directly: its GetCertificate wants a
// ClientHello from a handshake.
func (s *acmeSource) expiry() (time.Time, error) { return s.st.expiry() }

// release stops the renewals of a state no endpoint uses any more (its
// tunnel was removed or its acme block changed). Connections open on the
// endpoint keep the certificate they were given.
func (s *acmeSource) release() {
	s.refs.release()
	if s.used {
		s.used = false
		s.m.releaseACME(s.key, s.st)
	}
}

// listening starts getting and renewing the certificates: see
// acmeState.start for why only once the listener is bound.
func (s *acmeSource) listening(addr net.Addr) error {
	if err := s.st.start(addr); err != nil {
		return fieldError(s.t, "acme", err)
	}
	return nil
}

// ChallengeAnswered is the verdict on a server connection that was an
// ACME CA's validation (see Endpoint.Peer): not a failure, and not a peer
// to carry to the target. Its methods are the ones a tunnel asks of a
// verdict that ends the connection as answered (proxy.Answered).
type ChallengeAnswered struct{}

func (ChallengeAnswered) Error() string {
	return "the handshake answered an ACME TLS-ALPN-01 validation"
}

// HandshakeReason is the reason the connection closes with.
func (ChallengeAnswered) HandshakeReason() string { return "acme_challenge" }

// Answered is always true: the handshake was the whole exchange.
func (ChallengeAnswered) Answered() bool { return true }

// expiry is the earliest NotAfter among the newest certificates of st's
// domains, or an error naming a domain that has no certificate yet (the
// CA has not issued it, or certmagic is still loading it from storage).
func (st *acmeState) expiry() (time.Time, error) {
	var earliest time.Time
	for _, d := range st.domains {
		var newest time.Time
		for _, c := range st.cache.AllMatchingCertificates(strings.ToLower(d)) {
			if c.Leaf != nil && c.Leaf.NotAfter.After(newest) {
				newest = c.Leaf.NotAfter
			}
		}
		if newest.IsZero() {
			return time.Time{}, fmt.Errorf("acme: no certificate for %s yet", d)
		}
		if earliest.IsZero() || newest.Before(earliest) {
			earliest = newest
		}
	}
	return earliest, nil
}
