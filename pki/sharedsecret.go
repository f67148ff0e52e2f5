package pki

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
)

// sharedSecretLabel is the RFC 5705 / RFC 8446 exporter label of the proof.
// The exported value is unique to one TLS session, so a proof recorded on
// one connection is worthless on any other, and a machine in the middle
// (who has two sessions) cannot relay it.
const sharedSecretLabel = "EXPORTER-passtunnel-shared-secret"

// Role bytes make the two proofs of one session differ: a peer that sends
// our own proof back (a reflection) fails.
const (
	roleServer = 's'
	roleClient = 'c'
)

// ErrSharedSecret is wrapped by the error of a proof that does not match.
var ErrSharedSecret = errors.New("the peer's shared_secret proof does not match: both ends must hold the same shared_secret")

// sharedSecretError marks a proof mismatch. HandshakeReason is how proxy,
// which does not import pki, counts it: reason "shared_secret".
type sharedSecretError struct{ err error }

func (e *sharedSecretError) Error() string           { return e.err.Error() }
func (e *sharedSecretError) Unwrap() error           { return e.err }
func (e *sharedSecretError) HandshakeReason() string { return "shared_secret" }

// ProveSharedSecret runs the shared-secret exchange on a completed
// handshake, before any application byte: each side sends
// HMAC-SHA256(secret, exporter || role) and checks the peer's with
// hmac.Equal. Both sides write before they read; 32 bytes fit any socket
// buffer, so neither waits for the other. The caller bounds it with a
// deadline on the connection. Errors never contain the secret or a proof.
func ProveSharedSecret(conn *tls.Conn, secret []byte, server bool) error {
	if len(secret) == 0 {
		return errors.New("shared secret: empty secret")
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
	mine, theirs := byte(roleClient), byte(roleServer)
	if server {
		mine, theirs = theirs, mine
	}
	if _, err := conn.Write(sharedSecretProof(secret, ekm, mine)); err != nil {
		return fmt.Errorf("shared secret: sending our proof: %w", err)
	}
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(conn, got); err != nil {
		return fmt.Errorf("shared secret: reading the peer's proof: %w", err)
	}
	if !hmac.Equal(got, sharedSecretProof(secret, ekm, theirs)) {
		return &sharedSecretError{err: fmt.Errorf("shared secret: %w", ErrSharedSecret)}
	}
	return nil
}

func sharedSecretProof(secret, ekm []byte, role byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(ekm)
	mac.Write([]byte{role})
	return mac.Sum(nil)
}
