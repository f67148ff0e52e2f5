package pki

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
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
func (p pinSet) check(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("peer sent no certificate, and tls.pin accepts only pinned ones")
	}
	leaf := cs.PeerCertificates[0]
	if p[sha256.Sum256(leaf.Raw)] {
		return nil
	}
	return &tls.CertificateVerificationError{
		UnverifiedCertificates: cs.PeerCertificates,
		Err: fmt.Errorf("peer certificate %s (CN=%q) matches no tls.pin entry",
			Fingerprint(leaf.Raw), leaf.Subject.CommonName),
	}
}

// peerCheck is one step of a VerifyConnection: the chain, a pin, an allow
// list. Steps compose with allOf.
type peerCheck = func(tls.ConnectionState) error

// allOf runs every non-nil check in order and fails with the first error;
// it returns nil when there is nothing to check, so a config keeps a nil
// VerifyConnection unless something asked for one.
func allOf(checks ...peerCheck) peerCheck {
	var list []peerCheck
	for _, c := range checks {
		if c != nil {
			list = append(list, c)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return func(cs tls.ConnectionState) error {
		for _, c := range list {
			if err := c(cs); err != nil {
				return err
			}
		}
		return nil
	}
}

// pinAndAllow is the part of a tunnel's peer verification that tls.pin and
// allow { } add, or nil when it has neither.
func pinAndAllow(t *config.Tunnel) (peerCheck, error) { return serverPinAndAllow(t, false) }

// serverPinAndAllow is pinAndAllow for a server. With client_auth
// "request" a client may show no certificate; a pin then has nothing to
// check and lets it through, as tls.ca does. allow { } does not: it names
// who may connect, and a client without a certificate is nobody it names.
func serverPinAndAllow(t *config.Tunnel, request bool) (peerCheck, error) {
	pins, err := compilePins(t)
	if err != nil {
		return nil, err
	}
	allow, err := compileAllow(t)
	if err != nil {
		return nil, err
	}
	var pc peerCheck
	if pins != nil {
		pc = pins.check
		if request {
			pc = func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 {
					return nil
				}
				return pins.check(cs)
			}
		}
	}
	return allOf(pc, allow.verifier()), nil
}
