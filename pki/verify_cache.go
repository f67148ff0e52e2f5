package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"sync"
	"time"
)

// verifyCacheSize bounds a verifyCache. Only chains that verified get in,
// so filling it takes certificates the trusted CAs signed; past the bound
// an arbitrary entry makes room, which costs a re-verification, nothing
// more.
const verifyCacheSize = 512

// verifyCache remembers the peer certificate chains that passed one
// verifier, so that the same chain seen again (a client reconnecting, and
// every resumed session, on which VerifyConnection runs too) skips x509's
// path building and the issuer's signature check: about 80 µs per
// handshake and side, a tenth of a full handshake. The handshake's own
// proof that the peer holds the leaf's key (CertificateVerify, or the
// resumption secret) is crypto/tls's and is never skipped.
//
// What decides a verification is all in the key or the window: the exact
// DER of every certificate the peer sent (the leaf and the intermediates
// it offered), the root pool (pools are never changed once built: a CA
// reload makes a new one, so it misses), and the time, which matters only
// through the chain's validity window. The name and usages are fixed per
// verifier, and each verifier has its own cache.
type verifyCache struct {
	mu      sync.Mutex
	entries map[verifyKey]verifiedChain
}

type verifyKey struct {
	roots *x509.CertPool
	chain [sha256.Size]byte
}

// verifiedChain is a chain that verification built (leaf to root), and
// when every certificate of it is valid.
type verifiedChain struct {
	chain               []*x509.Certificate
	notBefore, notAfter time.Time
}

func newVerifyCache() *verifyCache {
	return &verifyCache{entries: map[verifyKey]verifiedChain{}}
}

// check returns the chain certs verified to against roots before, if it is
// valid at now; otherwise it calls verify, which returns the chain it
// built (leaf to root), and remembers a success. The chain's first
// certificate is the one verification accepted: the peer's identity.
func (c *verifyCache) check(roots *x509.CertPool, certs []*x509.Certificate, now time.Time,
	verify func() ([]*x509.Certificate, error)) ([]*x509.Certificate, error) {
	key := verifyKey{roots: roots, chain: chainDigest(certs)}
	c.mu.Lock()
	v, ok := c.entries[key]
	c.mu.Unlock()
	if ok && !now.Before(v.notBefore) && !now.After(v.notAfter) {
		return v.chain, nil
	}
	chain, err := verify()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= verifyCacheSize {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = remember(chain)
	return chain, nil
}

// chainDigest is SHA-256 over every certificate's DER, each prefixed with
// its length so that no two chains share an encoding.
func chainDigest(certs []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	var n [4]byte
	for _, c := range certs {
		binary.BigEndian.PutUint32(n[:], uint32(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

func remember(chain []*x509.Certificate) verifiedChain {
	w := verifiedChain{chain: chain}
	for i, c := range chain {
		if i == 0 || c.NotBefore.After(w.notBefore) {
			w.notBefore = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(w.notAfter) {
			w.notAfter = c.NotAfter
		}
	}
	return w
}
