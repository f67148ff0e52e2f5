package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// Endpoint is one tunnel's TLS side as pki built it: the config its
// handshakes run on, and the verdict that names the peer of a finished
// handshake.
type Endpoint struct {
	// Config is the config of every handshake of the tunnel (client
	// tunnels take a per-certificate copy of it through ForHandshake).
	Config *tls.Config
	// MaxHandshakeBytes bounds what the peer may send before its handshake
	// completes, where pki knows what a real one weighs (0: the caller's
	// default): crypto/tls parses every certificate of a flood before any
	// verification can refuse it.
	MaxHandshakeBytes int
	// verify is the peer verification that Config's VerifyConnection
	// runs; nil when the peer is not verified at all (client_auth =
	// "none", insecure_skip_verify).
	verify *verification
}

// nodeHandshakeBytes is MaxHandshakeBytes of a passphrase tunnel: a node's
// hello is about 1.5 KiB with a post-quantum key share (plus a session
// ticket when it resumes), its chain one certificate of about 0.5 KiB per
// cluster CA. Anything near the bound is a flood.
const nodeHandshakeBytes = 16 << 10

// Peer is the verdict on a finished handshake whose state is cs: the
// certificate that verification (a chain to a trusted CA, a cluster CA, or
// a pin) accepted, or nil when the peer showed none and did not have to,
// or the tunnel does not verify its peer at all. It is the only source of
// the peer's identity: allow { }, log fields, PROXY TLVs and shared_secret
// read it and never cs.PeerCertificates[0], which is what the peer sent,
// not what was verified (a passphrase node's chain may carry several
// certificates for its key, and only one of them need be signed by a CA
// this tunnel trusts).
//
// The handshake's VerifyConnection ran the same verification and failed
// the handshake on error; calling it again costs a lookup in the verified
// chains it remembered. An error here (the trusted CAs were replaced in
// between) fails the connection as the handshake would have.
func (e *Endpoint) Peer(cs tls.ConnectionState) (*x509.Certificate, error) {
	if e.verify == nil {
		return nil, nil
	}
	return e.verify.peer(cs)
}

// chainCheck verifies what the peer sent and returns the chain it built,
// leaf to root; its first certificate is the one accepted. A chainCheck
// remembers verified chains (see verifyCache).
type chainCheck func(certs []*x509.Certificate) ([]*x509.Certificate, error)

// verification is how a tunnel decides who its peer is: a chain check
// (certificate files, ACME and self-signed tunnels' tls.ca, or the
// passphrase's cluster CAs), tls.pin, or both, then allow { }.
type verification struct {
	chain chainCheck // nil: no CA check (tls.pin alone)
	pins  pinSet     // nil: no pin
	allow *peerAllow // nil: every verified peer
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
