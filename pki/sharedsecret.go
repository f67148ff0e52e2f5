package pki

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// sharedSecretLabel is the RFC 5705 / RFC 8446 exporter label of the proof:
// a label outside the IANA registry must begin with "EXPERIMENTAL" (RFC
// 5705 section 4). The exported value is unique to one TLS session, so a
// proof recorded on one connection is worthless on any other, and a
// machine in the middle (who has two sessions) cannot relay it. The
// version changes with the exchange: v2 is client-first and stretched.
const sharedSecretLabel = "EXPERIMENTAL-passtunnel-shared-secret-v2"

// sharedSecretSalt prefixes the cluster name in the salt of the stretch.
const sharedSecretSalt = derivePrefix + "shared-secret/"

// Role bytes make the two proofs of one session differ: a peer that sends
// our own proof back (a reflection) fails.
const (
	roleServer = 's'
	roleClient = 'c'
)

// ErrSharedSecret is wrapped by the error of a proof that does not match.
var ErrSharedSecret = errors.New("the peer's shared_secret proof does not match: both ends must hold the same shared_secret (and cluster)")

// ErrSharedSecretRefused is wrapped by a client's error when the server
// closed the connection after the client's proof instead of sending its
// own: it found the proof wrong (or the server has no shared_secret).
var ErrSharedSecretRefused = errors.New("the server refused our shared_secret proof: both ends must hold the same shared_secret (and cluster)")

// sharedSecretError marks a failed exchange. HandshakeReason is how proxy,
// which does not import pki, counts it: reason "shared_secret".
type sharedSecretError struct{ err error }

func (e *sharedSecretError) Error() string           { return e.err.Error() }
func (e *sharedSecretError) Unwrap() error           { return e.err }
func (e *sharedSecretError) HandshakeReason() string { return "shared_secret" }

// SharedSecretKey is a shared_secret stretched with Argon2id, the key of
// its proofs. A proof is an HMAC of this key: whoever records one (a peer
// with a valid certificate but without the secret) can test a guess at the
// secret only by paying for the stretch, as for a passphrase.
type SharedSecretKey struct{ key []byte }

// StretchSharedSecret derives the proof key of secret, salted with the
// cluster name. Most callers want Manager.SharedSecret, which does it once
// per process.
func StretchSharedSecret(secret, cluster string) (*SharedSecretKey, error) {
	if secret == "" {
		return nil, errors.New("shared secret: empty secret")
	}
	if cluster == "" {
		cluster = DefaultCluster
	}
	key := stretch(secret, sharedSecretSalt+cluster)
	return &SharedSecretKey{key: key}, nil
}

// ProveSharedSecret runs the shared-secret exchange on a completed
// handshake whose peer verification accepted peer, before any application
// byte. The client proves first: it sends HMAC(key, exporter || 'c'). The
// server checks that proof (hmac.Equal) before it sends its own,
// HMAC(key, exporter || 's'), which the client checks in turn. So a client
// that does not hold the secret never gets a proof to guess against, and
// a proof is only ever sent to a peer authenticated by certificate (peer
// is not nil): never to an anonymous one. The caller bounds the exchange
// with a deadline on the connection. Errors never contain the secret or a
// proof.
func ProveSharedSecret(conn *tls.Conn, key *SharedSecretKey, server bool, peer *x509.Certificate) error {
	if key == nil || len(key.key) == 0 {
		return errors.New("shared secret: no key")
	}
	if peer == nil {
		// config refuses shared_secret without peer certificates; this
		// is the backstop.
		return &sharedSecretError{errors.New("shared secret: the peer is not authenticated by a certificate, and no proof goes to an anonymous peer")}
	}
	cs := conn.ConnectionState()
	if !cs.HandshakeComplete {
		return errors.New("shared secret: the TLS handshake is not complete")
	}
	// TLS 1.3, or TLS 1.2 with extended master secret (Go's default both
	// ways): anything else has no channel binding worth the name, and
	// ExportKeyingMaterial refuses it.
	ekm, err := cs.ExportKeyingMaterial(sharedSecretLabel, nil, sha256.Size)
	if err != nil {
		return fmt.Errorf("shared secret: %w", err)
	}
	if server {
		if err := checkProof(conn, key, ekm, roleClient); err != nil {
			return err
		}
		return sendProof(conn, key, ekm, roleServer)
	}
	if err := sendProof(conn, key, ekm, roleClient); err != nil {
		return err
	}
	err = checkProof(conn, key, ekm, roleServer)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return &sharedSecretError{fmt.Errorf("shared secret: %w (the connection closed instead: %v)", ErrSharedSecretRefused, err)}
	}
	return err
}

func sendProof(conn *tls.Conn, key *SharedSecretKey, ekm []byte, role byte) error {
	if _, err := conn.Write(sharedSecretProof(key, ekm, role)); err != nil {
		return fmt.Errorf("shared secret: sending our proof: %w", err)
	}
	return nil
}

func checkProof(conn *tls.Conn, key *SharedSecretKey, ekm []byte, role byte) error {
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(conn, got); err != nil {
		return fmt.Errorf("shared secret: reading the peer's proof: %w", err)
	}
	if !hmac.Equal(got, sharedSecretProof(key, ekm, role)) {
		return &sharedSecretError{err: fmt.Errorf("shared secret: %w", ErrSharedSecret)}
	}
	return nil
}

func sharedSecretProof(key *SharedSecretKey, ekm []byte, role byte) []byte {
	mac := hmac.New(sha256.New, key.key)
	mac.Write(ekm)
	mac.Write([]byte{role})
	return mac.Sum(nil)
}
