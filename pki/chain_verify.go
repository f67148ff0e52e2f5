package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"
	"time"
)

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
