package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// Hot reload takes an endpoint built from files by ServerEndpoint or
// ClientEndpoint and makes it read the files' current content on every
// handshake, so proxy keeps its one *tls.Config per tunnel:
//
//   - the certificate comes from GetCertificate / GetClientCertificate;
//   - the endpoint's chain check reads the current CA pool instead of the
//     pool of the start.
//
// The verification stays the endpoint's (see verification): the chain
// check first, then tls.pin and allow { } on what it accepted. It runs in
// VerifyConnection, so on resumed sessions too: a session ticket issued
// before a CA was removed no longer gets in.

// followServerFiles turns e, the static endpoint of server tunnel t, into
// one that follows tls.cert, tls.key and tls.ca.
func (m *Manager) followServerFiles(t *config.Tunnel, e *Endpoint) error {
	c, cfg := t.TLS, e.Config
	if c.Cert != "" && len(cfg.Certificates) == 1 && cfg.GetCertificate == nil {
		pair, err := m.reload.sharePair(cfg, t.Name, c.Cert, c.Key)
		if err != nil {
			return tunnelFileError(t, err)
		}
		cfg.Certificates = nil
		cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return pair.certificate(), nil }
	}
	if c.CA == "" || e.verify == nil || e.verify.chain == nil {
		return nil // clients are not verified against tls.ca
	}
	pool, err := m.reload.sharePool(cfg, t.Name, c.CA, nil)
	if err != nil {
		return tunnelFileError(t, err)
	}
	cfg.ClientCAs = nil
	e.verify.chain = verifyChain(pool.pool, "", x509.ExtKeyUsageClientAuth, m.now)
	if cfg.GetConfigForClient == nil {
		cfg.GetConfigForClient = advertiseCAs(cfg, pool)
	}
	return nil
}

// followClientFiles turns e, the static endpoint of client tunnel t, into
// one that follows tls.cert, tls.key and tls.ca.
func (m *Manager) followClientFiles(t *config.Tunnel, e *Endpoint) error {
	c, cfg := t.TLS, e.Config
	if c.Cert != "" && len(cfg.Certificates) == 1 && cfg.GetClientCertificate == nil {
		pair, err := m.reload.sharePair(cfg, t.Name, c.Cert, c.Key)
		if err != nil {
			return tunnelFileError(t, err)
		}
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return pair.certificate(), nil }
	}
	if c.CA == "" || e.verify == nil || e.verify.chain == nil {
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
	e.verify.chain = verifyChain(pool.pool, cfg.ServerName, x509.ExtKeyUsageServerAuth, m.now)
	return nil
}

// maxPeerChain bounds the certificates of a peer chain that verifyChain
// looks at. Real chains hold a leaf and two or three intermediates; x509
// tries every offered intermediate whose name fits, each a signature
// check, so a peer that offers hundreds would make every handshake cost
// many.
const maxPeerChain = 10

// fixedPool is a pool that never changes, as a chain check reads it.
func fixedPool(p *x509.CertPool) func() *x509.CertPool { return func() *x509.CertPool { return p } }

// verifyChain is what crypto/tls does with a peer's certificates, against
// the pool that roots returns at the time of the handshake: the leaf must
// chain to it (the rest of what the peer sent may serve as intermediates),
// be valid now, allow usage and, when name is set, be for name (a DNS name
// or an IP address). It returns the chain, whose leaf is the peer.
func verifyChain(roots func() *x509.CertPool, name string, usage x509.ExtKeyUsage, now func() time.Time) chainCheck {
	cache := newVerifyCache()
	return func(certs []*x509.Certificate) ([]*x509.Certificate, error) {
		if len(certs) > maxPeerChain {
			return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs,
				Err: fmt.Errorf("peer sent %d certificates, more than the %d of any real chain", len(certs), maxPeerChain)}
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

// fileServerEndpoint is ServerEndpoint with hot reload of its files.
func (m *Manager) fileServerEndpoint(t *config.Tunnel) (*Endpoint, error) {
	e, err := serverEndpoint(t, nil)
	return m.followServer(t, e, err)
}

// followServer makes a server endpoint built from files (or a self-signed
// certificate) follow its files, and guards session resumption against
// certificates that were replaced or are about to expire.
func (m *Manager) followServer(t *config.Tunnel, e *Endpoint, err error) (*Endpoint, error) {
	if err != nil {
		return nil, err
	}
	if !m.reload.off() {
		if err := m.followServerFiles(t, e); err != nil {
			m.Release(e.Config)
			return nil, err
		}
	}
	if resumes(t) {
		g, tk := m.fileSessions(t)
		g.sameOwn = true
		guardEachHandshake(e.Config, g, tk)
	}
	return e, nil
}

// fileClientEndpoint is ClientEndpoint with hot reload of its files.
func (m *Manager) fileClientEndpoint(t *config.Tunnel, targetHost string) (*Endpoint, error) {
	e, err := ClientEndpoint(t, targetHost)
	if err != nil || m.reload.off() {
		return e, err
	}
	if err := m.followClientFiles(t, e); err != nil {
		m.Release(e.Config)
		return nil, err
	}
	cfg := e.Config
	if get := cfg.GetClientCertificate; get != nil && resumes(t) {
		cfg.ClientSessionCache = newSessionCache(func() (*tls.Certificate, error) { return get(nil) })
	}
	return e, nil
}
