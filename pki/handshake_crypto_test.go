package pki

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// BenchmarkHandshakeCrypto times the public-key operations of one side of
// a TLS 1.3 handshake with the keys passtunnel issues (ECDSA P-256) and
// the key exchange its benchmarks offer (X25519). A resumed handshake
// still does the key exchange (crypto/tls resumes only with psk_dhe_ke);
// a full one adds a signature and a verification on each side. So, with
// every other cost of a connection taken away, resumption could speed a
// tunnel pair up by at most (exchange + sign + verify) / exchange: the
// docs/performance.md works that bound out from these figures.
func BenchmarkHandshakeCrypto(b *testing.B) {
	b.Run("x25519-exchange", func(b *testing.B) { // a key share made, and the peer's used
		peer, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			k, err := ecdh.X25519().GenerateKey(rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := k.ECDH(peer.PublicKey()); err != nil {
				b.Fatal(err)
			}
		}
	})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("a TLS 1.3 CertificateVerify signs a transcript hash"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("p256-sign", func(b *testing.B) {
		for b.Loop() {
			if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("p256-verify", func(b *testing.B) {
		for b.Loop() {
			if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
				b.Fatal("signature does not verify")
			}
		}
	})
}
