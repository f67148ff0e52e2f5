package pki

import (
	"crypto/tls"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// passphraseSource is the identity a passphrase derives: a node
// certificate of the cluster CA, renewed before it expires, and the
// cluster CAs (of passphrase and previous_passphrases) as the only trust.
// What it uses, the derived CAs and the node identity, is the Manager's,
// shared by every tunnel of the same passphrases: an endpoint holds
// nothing of its own to release.
type passphraseSource struct {
	m   *Manager
	own func() (*tls.Certificate, error) // the node certificate, once built
}

// nodeHandshakeBytes is MaxHandshakeBytes of a passphrase tunnel: a node's
// hello is about 1.5 KiB with a post-quantum key share (plus a session
// ticket when it resumes), its chain one certificate of about 0.5 KiB per
// cluster CA. Anything near the bound is a flood.
const nodeHandshakeBytes = 16 << 10

func newPassphraseSource(m *Manager) identitySource { return &passphraseSource{m: m} }

func (s *passphraseSource) server(t *config.Tunnel) (*Endpoint, error) {
	id, cfg, err := s.m.passphraseSetup(t, serverSide)
	if err != nil {
		return nil, err
	}
	s.own = id.node.certificate
	serverSide.present(cfg, s.own)
	// RequireAnyClientCert makes crypto/tls insist on a certificate but
	// leaves the verification to VerifyConnection, which also runs on
	// resumed sessions: a ticket never bypasses the CA check.
	cfg.ClientAuth = tls.RequireAnyClientCert
	if resumes(t) {
		// Without resumption no ticket is made or opened, so the keys
		// derived from the seed are never needed.
		resumeGuard{own: s.own, margin: resumeMargin(s.m.validity), now: s.m.now,
			lifetime: sessionLifetime(t), noTLS12: true}.
			apply(cfg, id.tickets)
	}
	return id.endpoint(cfg), nil
}

func (s *passphraseSource) client(t *config.Tunnel, targetHost string) (*Endpoint, error) {
	id, cfg, err := s.m.passphraseSetup(t, clientSide)
	if err != nil {
		return nil, err
	}
	s.own = id.node.certificate
	clientSide.present(cfg, s.own)
	// InsecureSkipVerify only turns off crypto/tls's own check, which would
	// use the system roots and a host name. VerifyConnection then verifies
	// the chain against the cluster CAs alone, on every handshake, resumed
	// or not, and fails it otherwise: nothing is skipped.
	cfg.InsecureSkipVerify = true
	if resumes(t) {
		cfg.ClientSessionCache = newSessionCache(s.own)
	}
	// The session cache is keyed by ServerName: a stable one lets each
	// client -> server pair resume.
	cfg.ServerName = verifyHost(targetHost)
	if t.TLS != nil && t.TLS.ServerName != "" {
		cfg.ServerName = t.TLS.ServerName
	}
	if cfg.ServerName == "" {
		cfg.ServerName = clusterOf(t) + ".passtunnel.internal"
	}
	return id.endpoint(cfg), nil
}

func (s *passphraseSource) expiry() (time.Time, error) { return expiryOf(s.own) }

func (s *passphraseSource) release() {}
