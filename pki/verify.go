package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// chainCheck verifies what the peer sent and returns the chain it built,
// leaf to root; its first certificate is the one accepted. A chainCheck
// remembers verified chains (see verifyCache).
type chainCheck func(certs []*x509.Certificate) ([]*x509.Certificate, error)

// verification is how a tunnel decides who its peer is: a chain check
// (certificate files, ACME and self-signed tunnels' tls.ca, or the
// passphrase's cluster CAs) with its CRLs, tls.pin, or both, then
// deny { } and allow { }.
type verification struct {
	chain chainCheck // nil: no CA check (tls.pin alone)
	pins  pinSet     // nil: no pin
	allow *peerAllow // nil: every verified peer
	// revoked checks the chain the chain check built against tls.crl;
	// nil: no CRL.
	revoked func(chain []*x509.Certificate) error
	deny    *denyList // nil: nothing denied
	// optional lets a peer show no certificate (client_auth =
	// "request"): it then has no verified identity, and allow { }, which
	// names who may connect, refuses it.
	optional bool
}

// peer verifies cs and returns the certificate it accepted.
func (v *verification) peer(cs tls.ConnectionState) (*x509.Certificate, error) {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		switch {
		case v.allow != nil:
			return nil, errors.New("peer sent no certificate, and allow { } accepts only peers it can name")
		case v.optional:
			return nil, nil
		case v.chain == nil:
			return nil, errors.New("peer sent no certificate, and tls.pin accepts only pinned ones")
		}
		return nil, errors.New("peer sent no certificate")
	}
	// The handshake proved that the peer holds the key of certs[0]. A pin
	// names that certificate; a chain check may accept another one for
	// the same key (a passphrase node in a rotation), and returns it.
	accepted := certs[0]
	if v.chain != nil {
		chain, err := v.chain(certs)
		if err != nil {
			return nil, err
		}
		accepted = chain[0]
		if v.revoked != nil {
			if err := v.revoked(chain); err != nil {
				return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
			}
		}
	}
	if v.deny != nil {
		if err := v.deny.check(accepted, certs); err != nil {
			return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
		}
	}
	if v.pins != nil {
		if err := v.pins.check(certs); err != nil {
			return nil, err
		}
	}
	if v.allow != nil {
		if err := v.allow.check(accepted, certs); err != nil {
			return nil, err
		}
	}
	return accepted, nil
}

// verifyConnection is v as a tls.Config.VerifyConnection, which crypto/tls
// runs on every handshake, resumed ones included: a session ticket never
// bypasses it.
func (v *verification) verifyConnection(cs tls.ConnectionState) error {
	_, err := v.peer(cs)
	return err
}

// install makes cfg run v on every handshake, or nothing when v is nil.
func (v *verification) install(cfg *tls.Config) {
	if v == nil {
		cfg.VerifyConnection = nil
		return
	}
	cfg.VerifyConnection = v.verifyConnection
}
