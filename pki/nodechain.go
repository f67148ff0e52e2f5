package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// A passphrase node presents its node certificate first, then, while a
// rotation is under way, one more certificate for the same key from each
// other cluster CA it knows (see nodeIdentity), so that peers on either
// passphrase can verify it. Any one of them that a trusted cluster CA
// signed is what verification accepts. A peer could put anything else
// there: a self-signed certificate claiming another node's name for its
// own key, or hundreds of certificates that each cost a signature check.
// So the chain is held to the shape a node sends, before any signature is
// checked:
//
//   - at most one certificate per trusted cluster CA, plus the leaf;
//   - every certificate after the leaf carries the leaf's key, subject and
//     subject alternative names, so whichever one a CA signed names the
//     same peer as the leaf, or is a trusted cluster CA certificate itself,
//     byte for byte (OpenSSL, stunnel and Java send the CA of a `pki issue`
//     certificate after it), which is skipped;
//   - a certificate whose authority key id names no trusted CA is skipped
//     without a signature check.

// oidSubjectAltName is the subject alternative name extension (RFC 5280).
var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// clusterRoot is one trusted cluster CA, with a pool of it alone.
type clusterRoot struct {
	cert *x509.Certificate
	pool *x509.CertPool
}

// nodeChains is the chain check of a passphrase tunnel: certs must be a
// node's chain under one of cas, for usage (client or server
// authentication). It returns [accepted certificate, its CA].
func nodeChains(cas []*ClusterCA, usage x509.ExtKeyUsage, now func() time.Time) chainCheck {
	roots := make([]clusterRoot, len(cas))
	all := x509.NewCertPool()
	for i, ca := range cas {
		roots[i] = clusterRoot{cert: ca.Cert, pool: x509.NewCertPool()}
		roots[i].pool.AddCert(ca.Cert)
		all.AddCert(ca.Cert)
	}
	cache := newVerifyCache()
	return func(certs []*x509.Certificate) ([]*x509.Certificate, error) {
		at := now()
		return cache.check(all, certs, at, func() ([]*x509.Certificate, error) {
			return verifyNodeChain(certs, roots, x509.VerifyOptions{CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
		})
	}
}

// verifyNodeChain returns the chain of the first certificate of certs
// that a cluster CA of roots signed, after checking the chain's shape.
func verifyNodeChain(certs []*x509.Certificate, roots []clusterRoot, opts x509.VerifyOptions) ([]*x509.Certificate, error) {
	leaf := certs[0]
	if err := checkNodeShape(certs, roots); err != nil {
		return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: peerError(leaf, err)}
	}
	var firstErr error
	for _, c := range certs {
		root := rootFor(c, roots)
		if root == nil || isRoot(c, roots) {
			continue // names no CA of ours (not worth a signature check), or is one
		}
		opts.Roots = root.pool
		chains, err := c.Verify(opts)
		if err == nil {
			return chains[0], nil
		}
		var unknown x509.UnknownAuthorityError
		if firstErr == nil || !errors.As(err, &unknown) {
			firstErr = err // a reason other than "unknown CA" says more
		}
	}
	if firstErr == nil {
		firstErr = x509.UnknownAuthorityError{Cert: leaf}
	}
	return nil, peerError(leaf, firstErr)
}

// checkNodeShape refuses a chain no node would send: too long for the CAs
// trusted here, or with a certificate for another key or another name.
func checkNodeShape(certs []*x509.Certificate, roots []clusterRoot) error {
	if len(certs) > len(roots)+1 {
		return &shapeError{fmt.Sprintf(
			"sent %d certificates; a node sends one per cluster CA, and %d are trusted here", len(certs), len(roots))}
	}
	leaf := certs[0]
	for i, c := range certs[1:] {
		switch {
		case isRoot(c, roots):
		case !bytes.Equal(c.RawSubjectPublicKeyInfo, leaf.RawSubjectPublicKeyInfo):
			return &shapeError{fmt.Sprintf("certificate %d is for another key than the first", i+2)}
		case !bytes.Equal(c.RawSubject, leaf.RawSubject):
			return &shapeError{fmt.Sprintf("certificate %d names another subject than the first", i+2)}
		case !bytes.Equal(subjectAltNames(c), subjectAltNames(leaf)):
			return &shapeError{fmt.Sprintf("certificate %d has other alternative names than the first", i+2)}
		}
	}
	return nil
}

// shapeError is a chain refused for its shape, before any signature check.
type shapeError struct{ msg string }

func (e *shapeError) Error() string { return e.msg }

// subjectAltNames is the DER of c's SAN extension, nil without one.
func subjectAltNames(c *x509.Certificate) []byte {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidSubjectAltName) {
			return e.Value
		}
	}
	return nil
}

// isRoot reports whether c is one of the trusted cluster CA certificates.
func isRoot(c *x509.Certificate, roots []clusterRoot) bool {
	for _, r := range roots {
		if bytes.Equal(c.Raw, r.cert.Raw) {
			return true
		}
	}
	return false
}

// rootFor is the trusted CA that c names as its issuer by key id (cluster
// CAs and the node certificates they sign always carry it), or nil.
func rootFor(c *x509.Certificate, roots []clusterRoot) *clusterRoot {
	if len(c.AuthorityKeyId) == 0 {
		return nil
	}
	for i := range roots {
		if bytes.Equal(c.AuthorityKeyId, roots[i].cert.SubjectKeyId) {
			return &roots[i]
		}
	}
	return nil
}

func peerError(leaf *x509.Certificate, err error) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var shape *shapeError
	switch {
	case errors.As(err, &shape):
		return fmt.Errorf("peer %q: not a node chain of this cluster: %w", leaf.Subject.CommonName, err)
	case errors.As(err, &unknown):
		return fmt.Errorf("peer certificate %q is not signed by this cluster's CA (wrong passphrase or cluster?): %w",
			leaf.Subject.CommonName, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Errorf("peer certificate %q of this cluster is expired or not yet valid (clock skew?): %w",
			leaf.Subject.CommonName, err)
	default:
		return fmt.Errorf("peer certificate %q: %w", leaf.Subject.CommonName, err)
	}
}
