package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"sync"
	"time"
)

// Endpoint is one tunnel's TLS side as pki built it, and the caller's
// handle on it: the config its handshakes run on, the verdict that names
// the peer of a finished handshake, and the identity source behind it,
// which the handle asks what it presents (Expiry) and gives back what it
// holds (Release). The caller keeps the Endpoint for as long as its tunnel
// uses the config.
type Endpoint struct {
	// Config is the config of every handshake of a server tunnel; a
	// client tunnel's handshakes run on ForHandshake(Config).
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
	// src is the identity the Manager built the endpoint from; nil for
	// the package-level builders, which read their files once and hold
	// nothing.
	src      identitySource
	released sync.Once
	// server: the endpoint of a server tunnel, whose listener may be
	// asked to answer an ACME validation (see Peer).
	server bool
}

// Expiry is the NotAfter of the certificate the endpoint presents at a
// handshake right now, whatever its source: certificate files (as last
// hot reloaded), a passphrase-derived node certificate (as last renewed),
// a self-signed certificate, or an ACME certificate (the earliest of its
// domains'). It describes the config a tunnel serves with, also across
// config reloads.
//
// An endpoint that presents no certificate by design (a client tunnel
// without tls.cert) gives the zero time and no error. One that must
// present a certificate but has none yet is not ready, and the error says
// why: an ACME certificate not obtained yet, a node certificate that could
// not be issued. Both are cheap: nothing is read from disk.
func (e *Endpoint) Expiry() (time.Time, error) {
	if e == nil {
		return time.Time{}, nil
	}
	if e.src == nil {
		return expiryOf(staticCertificate(e.Config))
	}
	return e.src.expiry()
}

// Release tells pki that the endpoint is no longer used for new
// connections (its tunnel was removed, or rebuilt by a config reload):
// files no other endpoint follows stop being watched, an ACME state no
// other endpoint serves stops renewing. Connections already open are not
// affected. Releasing twice, or a nil endpoint, does nothing.
func (e *Endpoint) Release() {
	if e == nil || e.src == nil {
		return
	}
	e.released.Do(e.src.release)
}

// Listening starts what the endpoint needs its tunnel's bound listener
// for: an ACME endpoint gets and renews its certificate in the background,
// since the CA validates the domain by connecting to that listener. Call
// it after the listener is bound and before serving, with the bound
// address; calling it again does nothing. Other identities have nothing
// to start.
func (e *Endpoint) Listening(addr net.Addr) error {
	if e == nil {
		return nil
	}
	if s, ok := e.src.(starter); ok {
		return s.listening(addr)
	}
	return nil
}

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
//
// A server handshake that negotiated acme-tls/1 has no peer: it was a CA's
// validation of the tunnel's domain, answered by the handshake itself
// (RFC 8737 section 3: no application data follows) without client
// authentication. Its verdict is ChallengeAnswered, so that the caller
// closes the connection instead of carrying it to the target.
func (e *Endpoint) Peer(cs tls.ConnectionState) (*x509.Certificate, error) {
	if e.server && cs.NegotiatedProtocol == acmeTLS1 {
		return nil, ChallengeAnswered{}
	}
	if e.verify == nil {
		return nil, nil
	}
	return e.verify.peer(cs)
}
