package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// Hot reload takes a config built from files by ServerTLSConfig or
// ClientTLSConfig and makes it read the files' current content on every
// handshake, so proxy keeps its one *tls.Config per tunnel:
//
//   - the certificate comes from GetCertificate / GetClientCertificate;
//   - the peer's chain is verified in VerifyConnection against the current
//     CA pool, instead of by crypto/tls against the pool of the start.
//
// VerifyConnection is the composition point: followFiles puts the chain
// check first and keeps whatever the config had (tls.pin, allow { }) after
// it, through allOf, so those checks only ever see a verified chain. They
// must read cs.PeerCertificates: cs.VerifiedChains is empty, as crypto/tls
// no longer verifies. VerifyConnection also runs on resumed sessions, so a
// session ticket issued before a CA was removed no longer gets in.

// followServerFiles turns cfg, the static config of server tunnel t, into
// one that follows tls.cert, tls.key and tls.ca.
func (m *Manager) followServerFiles(t *config.Tunnel, cfg *tls.Config) error {
	c := t.TLS
	if c.Cert != "" && len(cfg.Certificates) == 1 && cfg.GetCertificate == nil {
		pair, err := m.reload.sharePair(cfg, t.Name, c.Cert, c.Key)
		if err != nil {
			return tunnelFileError(t, err)
		}
		cfg.Certificates = nil
		cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return pair.certificate(), nil }
	}
	if c.CA == "" || cfg.ClientCAs == nil || cfg.ClientAuth < tls.VerifyClientCertIfGiven {
		return nil // clients are not verified against tls.ca
	}
	pool, err := m.reload.sharePool(cfg, t.Name, c.CA, nil)
	if err != nil {
		return tunnelFileError(t, err)
	}
	// The same demand for a certificate, with the verification moved to
	// VerifyConnection; "request" still accepts a client without one.
	cfg.ClientAuth = map[tls.ClientAuthType]tls.ClientAuthType{
		tls.VerifyClientCertIfGiven:    tls.RequestClientCert,
		tls.RequireAndVerifyClientCert: tls.RequireAnyClientCert,
	}[cfg.ClientAuth]
	cfg.ClientCAs = nil
	cfg.VerifyConnection = allOf(verifyChain(pool.pool, "", x509.ExtKeyUsageClientAuth, m.now), cfg.VerifyConnection)
	if cfg.GetConfigForClient == nil {
		cfg.GetConfigForClient = advertiseCAs(cfg, pool)
	}
	return nil
}

// followClientFiles turns cfg, the static config of client tunnel t, into
// one that follows tls.cert, tls.key and tls.ca.
func (m *Manager) followClientFiles(t *config.Tunnel, cfg *tls.Config) error {
	c := t.TLS
	if c.Cert != "" && len(cfg.Certificates) == 1 && cfg.GetClientCertificate == nil {
		pair, err := m.reload.sharePair(cfg, t.Name, c.Cert, c.Key)
		if err != nil {
			return tunnelFileError(t, err)
		}
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return pair.certificate(), nil }
	}
	if c.CA == "" || cfg.RootCAs == nil || cfg.InsecureSkipVerify {
		return nil // the server is not verified against tls.ca
	}
	var base *x509.CertPool
	if c.SystemRoots {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return fieldError(t, "tls.system_roots", fmt.Errorf("cannot load the system trust store: %w", err))
		}
		base = sys
	}
	pool, err := m.reload.sharePool(cfg, t.Name, c.CA, base)
	if err != nil {
		return tunnelFileError(t, err)
	}
	// InsecureSkipVerify only stops crypto/tls from verifying against the
	// pool of the start. verifyChain does the same verification, chain and
	// server name, against the current pool on every handshake, resumed or
	// not, and fails the handshake otherwise: nothing is skipped.
	cfg.InsecureSkipVerify = true
	cfg.RootCAs = nil
	cfg.VerifyConnection = allOf(verifyChain(pool.pool, cfg.ServerName, x509.ExtKeyUsageServerAuth, m.now), cfg.VerifyConnection)
	return nil
}

// verifyChain is what crypto/tls does with a peer's certificates, against
// the pool that roots returns at the time of the handshake: the leaf must
// chain to it (the rest of what the peer sent may serve as intermediates),
// be valid now, allow usage and, when name is set, be for name (a DNS name
// or an IP address). A peer without a certificate passes: whether one is
// required was decided by ClientAuth before this runs.
func verifyChain(roots func() *x509.CertPool, name string, usage x509.ExtKeyUsage, now func() time.Time) peerCheck {
	cache := newVerifyCache()
	return func(cs tls.ConnectionState) error {
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			if usage == x509.ExtKeyUsageServerAuth {
				return errors.New("server sent no certificate")
			}
			return nil
		}
		pool, at := roots(), now()
		return cache.check(pool, certs, at, func() ([]*x509.Certificate, error) {
			opts := x509.VerifyOptions{
				Roots:         pool,
				Intermediates: x509.NewCertPool(),
				CurrentTime:   at,
				DNSName:       name,
				KeyUsages:     []x509.ExtKeyUsage{usage},
			}
			for _, c := range certs[1:] {
				opts.Intermediates.AddCert(c)
			}
			chains, err := certs[0].Verify(opts)
			if err != nil {
				// The type crypto/tls returns, so failures are classified alike.
				return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
			}
			return chains[0], nil
		})
	}
}

// caSnapshot is the config of one CA pool's handshakes.
type caSnapshot struct {
	pool *x509.CertPool
	cfg  *tls.Config
}

// advertiseCAs keeps the CA names in the server's CertificateRequest
// current: Go and Java clients choose the certificate they send by that
// list, and a Go client sends none when its issuer is not listed, so a
// stale list would break the very rotation a reload is for. It only sets
// ClientCAs: with RequestClientCert or RequireAnyClientCert crypto/tls
// sends the names and does not verify against them. Each snapshot is
// cloned from outer at its first handshake, when outer is complete, and
// uses outer's session ticket keys (crypto/tls does so when the returned
// config sets none), so sessions resume across reloads.
func advertiseCAs(outer *tls.Config, src *poolSource) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	var snap atomic.Pointer[caSnapshot]
	return func(*tls.ClientHelloInfo) (*tls.Config, error) {
		pool := src.pool()
		if s := snap.Load(); s != nil && s.pool == pool {
			return s.cfg, nil
		}
		c := outer.Clone()
		c.GetConfigForClient = nil
		c.ClientCAs = pool
		snap.Store(&caSnapshot{pool: pool, cfg: c})
		return c, nil
	}
}

// fileServerTLSConfig is ServerTLSConfig with hot reload of its files.
func (m *Manager) fileServerTLSConfig(t *config.Tunnel) (*tls.Config, error) {
	cfg, err := ServerTLSConfig(t)
	return m.followServer(t, cfg, err)
}

// followServer makes a server config built from files (or a self-signed
// certificate) follow its files, and guards session resumption against
// certificates that were replaced or are about to expire.
func (m *Manager) followServer(t *config.Tunnel, cfg *tls.Config, err error) (*tls.Config, error) {
	if err != nil || m.reload.off() {
		return cfg, err
	}
	if err := m.followServerFiles(t, cfg); err != nil {
		m.Release(cfg)
		return nil, err
	}
	if cfg.ClientAuth != tls.NoClientCert && resumes(t) {
		guardEachHandshake(cfg, resumeGuard{sameOwn: true, margin: fileResumeMargin, now: m.now})
	}
	return cfg, nil
}

// fileClientTLSConfig is ClientTLSConfig with hot reload of its files.
func (m *Manager) fileClientTLSConfig(t *config.Tunnel, targetHost string) (*tls.Config, error) {
	cfg, err := ClientTLSConfig(t, targetHost)
	if err != nil || m.reload.off() {
		return cfg, err
	}
	if err := m.followClientFiles(t, cfg); err != nil {
		m.Release(cfg)
		return nil, err
	}
	if get := cfg.GetClientCertificate; get != nil && resumes(t) {
		cfg.ClientSessionCache = newSessionCache(func() (*tls.Certificate, error) { return get(nil) })
	}
	return cfg, nil
}
