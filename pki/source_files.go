package pki

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// filesSource is the identity of tls.cert and tls.key and the trust of
// tls.ca, files that hot reload keeps current: each handshake reads their
// content as last reloaded.
type filesSource struct {
	m    *Manager
	refs fileRefs
	own  func() (*tls.Certificate, error) // the certificate presented now; nil: none
}

func newFilesSource(m *Manager) identitySource { return newFiles(m) }

func newFiles(m *Manager) *filesSource { return &filesSource{m: m, refs: fileRefs{r: m.reload}} }

func (s *filesSource) server(t *config.Tunnel) (*Endpoint, error) {
	e, err := serverEndpoint(t, nil, s.m.log)
	return s.followServer(t, e, err)
}

// followServer makes a server endpoint built from files (or a self-signed
// certificate) follow its files, and guards session resumption against
// certificates that were replaced or are about to expire.
func (s *filesSource) followServer(t *config.Tunnel, e *Endpoint, err error) (*Endpoint, error) {
	if err != nil {
		return nil, err
	}
	s.own = staticCertificate(e.Config)
	if !s.m.reload.off() {
		if err := s.follow(t, e, serverSide); err != nil {
			return nil, err
		}
	}
	if resumes(t) {
		g, tk := s.m.fileSessions(t)
		g.sameOwn = true
		guardEachHandshake(e.Config, g, tk)
	}
	s.logLoaded(t)
	return e, nil
}

func (s *filesSource) client(t *config.Tunnel, targetHost string) (*Endpoint, error) {
	e, err := clientEndpoint(t, targetHost, s.m.log)
	if err != nil {
		return nil, err
	}
	s.own = staticCertificate(e.Config)
	if s.m.reload.off() {
		s.logLoaded(t)
		return e, nil
	}
	if err := s.follow(t, e, clientSide); err != nil {
		return nil, err
	}
	s.logLoaded(t)
	if cfg := e.Config; clientSide.presents(cfg) && resumes(t) {
		cfg.ClientSessionCache = newSessionCache(s.own)
	}
	return e, nil
}

// follow makes the pair of s's endpoint e the one presented now, and
// follows tls.ca for it: see fileRefs.follow.
func (s *filesSource) follow(t *config.Tunnel, e *Endpoint, sd side) error {
	own, err := s.refs.follow(t, e, sd, s.m.now)
	if own != nil {
		s.own = own
	}
	return err
}

// logLoaded names the certificate of tls.cert (or tls.pkcs12) the tunnel
// starts with, as "certificate reloaded" names each later one.
func (s *filesSource) logLoaded(t *config.Tunnel) {
	f := filesOf(t.TLS)
	if !f.set() {
		return // self-signed, or a client without a certificate
	}
	leaf, err := presentedLeaf(s.own)
	if leaf == nil || err != nil {
		return // read and checked already: nothing to name
	}
	s.m.log.Info("certificate loaded", append([]any{"tunnel", t.Name, "file", f.main()}, certLogArgs(leaf)...)...)
}

func (s *filesSource) expiry() (time.Time, error) { return expiryOf(s.own) }

func (s *filesSource) release() { s.refs.release() }

// follow turns e, the endpoint of tunnel t on side sd built from files
// read once, into one that reads their current content on every
// handshake, so the caller keeps one *tls.Config per tunnel:
//
//   - tls.cert and tls.key come from the hook of sd (GetCertificate or
//     GetClientCertificate), when e presents them as a fixed certificate;
//     the returned function is that pair as it is now;
//   - e's chain check reads the current tls.ca pool, and a server's
//     CertificateRequest names its current CAs.
//
// The verification stays the endpoint's (see verification): the chain
// check first, then tls.pin and allow { } on what it accepted. It runs in
// VerifyConnection, so on resumed sessions too: a session ticket issued
// before a CA was removed no longer gets in.
func (f *fileRefs) follow(t *config.Tunnel, e *Endpoint, sd side, now func() time.Time) (own func() (*tls.Certificate, error), err error) {
	c, cfg := t.TLS, e.Config
	if filesOf(c).set() && len(cfg.Certificates) == 1 && !sd.presents(cfg) {
		pair, err := f.pair(t.Name, filesOf(c))
		if err != nil {
			return nil, tunnelFileError(t, err)
		}
		cfg.Certificates = nil
		own = func() (*tls.Certificate, error) { return pair.certificate(), nil }
		sd.present(cfg, own)
	}
	if c.CA == "" || e.verify == nil || e.verify.chain == nil {
		return own, nil // the peer is not verified against tls.ca
	}
	var base *x509.CertPool // a server verifies clients against tls.ca alone
	if sd == clientSide && c.SystemRoots {
		if base, err = systemRoots(t); err != nil {
			return own, err
		}
	}
	pool, err := f.pool(t.Name, c.CA, base)
	if err != nil {
		return own, tunnelFileError(t, err)
	}
	if len(c.CRL) > 0 {
		crls, err := f.crls(t)
		if err != nil {
			return own, crlError(t, err)
		}
		e.verify.revoked = revocationCheck(crls.set, now)
	}
	if sd == clientSide {
		e.verify.chain = serverChain(t, pool.pool, cfg.ServerName, now, f.r.log)
		return own, nil
	}
	e.verify.chain = verifyChain(pool.pool, "", sd.peerUsage(), now) // clients are not checked by name
	cfg.ClientCAs = nil
	if cfg.GetConfigForClient == nil {
		cfg.GetConfigForClient = advertiseCAs(cfg, pool)
	}
	return own, nil
}
