package pki

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// pinSet is tls.pin: the SHA-256 digests of the peer leaf certificates to
// accept. Fingerprints are public, so a map lookup (not a constant-time
// compare) is fine.
type pinSet map[[sha256.Size]byte]bool

// compilePins parses tls.pin ("SHA256:AB:CD:...", any case); it returns
// nil when the tunnel pins nothing.
func compilePins(t *config.Tunnel) (pinSet, error) {
	if t.TLS == nil || len(t.TLS.Pin) == 0 {
		return nil, nil
	}
	pins := pinSet{}
	for _, p := range t.TLS.Pin {
		sum, err := parsePin(p)
		if err != nil {
			return nil, fieldError(t, "tls.pin", err)
		}
		pins[sum] = true
	}
	return pins, nil
}

func parsePin(p string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	bad := fmt.Errorf("invalid pin %q; want SHA256: and 32 hex bytes, as `passtunnel pki fingerprint` prints", p)
	prefix, rest, ok := strings.Cut(p, ":")
	if !ok || !strings.EqualFold(prefix, "SHA256") {
		return sum, bad
	}
	parts := strings.Split(rest, ":")
	if len(parts) != sha256.Size {
		return sum, bad
	}
	for i, h := range parts {
		if len(h) != 2 {
			return sum, bad
		}
		if _, err := hex.Decode(sum[i:i+1], []byte(h)); err != nil {
			return sum, bad
		}
	}
	return sum, nil
}

// check accepts the peer when the SHA-256 of its leaf certificate is
// pinned. Only the leaf counts: the handshake proved the peer holds its
// key, and nothing else of the chain says who the peer is.
func (p pinSet) check(certs []*x509.Certificate) error {
	leaf := certs[0]
	if p[sha256.Sum256(leaf.Raw)] {
		return nil
	}
	return &tls.CertificateVerificationError{
		UnverifiedCertificates: certs,
		Err: fmt.Errorf("peer certificate %s (CN=%q) matches no tls.pin entry",
			Fingerprint(leaf.Raw), leaf.Subject.CommonName),
	}
}

// pinsAndAllow is the part of a tunnel's peer verification that tls.pin,
// deny { } and allow { } make; the caller adds the chain check, if any.
func pinsAndAllow(t *config.Tunnel) (*verification, error) {
	pins, err := compilePins(t)
	if err != nil {
		return nil, err
	}
	v, err := denyAndAllow(t)
	if err != nil {
		return nil, err
	}
	v.pins = pins
	return v, nil
}

// denyAndAllow is the part of a peer verification that deny { } and
// allow { } make, which passphrase tunnels have too.
func denyAndAllow(t *config.Tunnel) (*verification, error) {
	allow, err := compileAllow(t)
	if err != nil {
		return nil, err
	}
	deny, err := compileDeny(t)
	if err != nil {
		return nil, err
	}
	return &verification{allow: allow, deny: deny}, nil
}
