package pki

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"runtime/debug"
	"time"

	"golang.org/x/crypto/argon2"
)

// The derivation of a cluster CA from a passphrase. Every constant below,
// and every field of caTemplate, is part of the format: changing any of them
// changes the CA of every cluster, so nodes on different versions would no
// longer trust each other. TestClusterCAKnownAnswer pins the result.
const (
	// Argon2id with RFC 9106's second recommended setting: each guess at a
	// passphrase costs 64 MiB and three passes, which is what makes a
	// captured handshake expensive to attack offline.
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 4
	seedLen      = 32

	derivePrefix = "passtunnel/v1/"
	caInfo       = derivePrefix + "ca"
	ticketInfo   = derivePrefix + "ticket/"

	// DefaultCluster is the cluster (salt) of a tunnel that names none, as
	// config defaults it.
	DefaultCluster = "passtunnel"
)

var (
	caNotBefore = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// RFC 5280 4.1.2.5: 99991231235959Z means "no well-defined expiration".
	caNotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

	// dnsLabel is what a cluster and a node name must be: both become
	// labels of the node's DNS SAN.
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// ClusterCA is the certificate authority every node of a cluster derives
// from the shared passphrase. Its key never leaves the process.
type ClusterCA struct {
	Cert    *x509.Certificate
	cluster string
	key     ed25519.PrivateKey
	seed    []byte // the Argon2id output: session ticket keys derive from it
}

// DeriveClusterCA runs the (deliberately slow) derivation. Most callers want
// Manager.ClusterCA, which does it once per process.
func DeriveClusterCA(passphrase, cluster string) (*ClusterCA, error) {
	if cluster == "" {
		cluster = DefaultCluster
	}
	if !dnsLabel.MatchString(cluster) {
		return nil, fmt.Errorf("invalid cluster name %q: use lower-case letters, digits and '-'", cluster)
	}
	if passphrase == "" {
		return nil, errors.New("empty passphrase")
	}
	seed := stretch(passphrase, derivePrefix+cluster)
	caSeed, err := hkdf.Key(sha256.New, seed, nil, caInfo, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive CA key: %w", err)
	}
	key := ed25519.NewKeyFromSeed(caSeed)
	clear(caSeed)
	tmpl := caTemplate(key.Public().(ed25519.PublicKey), cluster)
	der, err := x509.CreateCertificate(noRandom{}, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-sign cluster CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse cluster CA: %w", err)
	}
	return &ClusterCA{Cert: cert, cluster: cluster, key: key, seed: seed}, nil
}

// stretch is the Argon2id of secret with salt, at the cost above. Its
// 64 MiB of blocks are garbage once it returns, but a heap that then stays
// small may not reach the next GC for a long time, and until then the
// pages stay in the process: an idle sidecar held 100 MB of RSS where it
// needs 40. Derivations are rare (start, reload), so a forced collection
// that returns the memory to the system at once costs nothing that
// matters.
func stretch(secret, salt string) []byte {
	out := argon2.IDKey([]byte(secret), []byte(salt), argonTime, argonMemory, argonThreads, seedLen)
	debug.FreeOSMemory()
	return out
}

// caTemplate makes every variable field a function of the public key, so
// that the certificate is the same bytes on every host.
func caTemplate(pub ed25519.PublicKey, cluster string) *x509.Certificate {
	sum := sha256.Sum256(pub)
	var serial [16]byte
	copy(serial[:], sum[:16])
	serial[0] &= 0x7f // a positive INTEGER of exactly 16 bytes, no sign padding
	return &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial[:]),
		Subject: pkix.Name{
			Organization:       []string{"passtunnel"},
			OrganizationalUnit: []string{cluster},
			CommonName:         "passtunnel cluster CA " + hex.EncodeToString(sum[:8]),
		},
		// Set explicitly (RFC 7093 method 1) rather than left to crypto/x509,
		// whose default has changed between Go versions.
		SubjectKeyId:          sum[:20],
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
}

// noRandom makes any use of randomness in CreateCertificate an error rather
// than a silently different CA: Ed25519 signatures need none, the serial is
// given, and a future Go that wanted some would break determinism.
type noRandom struct{}

func (noRandom) Read([]byte) (int, error) {
	return 0, errors.New("the cluster CA must be deterministic, but randomness was requested")
}

// Cluster is the cluster name the CA was derived for.
func (c *ClusterCA) Cluster() string { return c.cluster }

// CertPEM is the CA certificate in PEM, what `passtunnel pki ca` prints and
// what a non-passtunnel peer can use as its ca file.
func (c *ClusterCA) CertPEM() []byte { return CertPEM(c.Cert.Raw) }

// Fingerprint is the CA certificate's "SHA256:AB:.." fingerprint; equal
// fingerprints on two hosts mean equal passphrase and cluster.
func (c *ClusterCA) Fingerprint() string { return Fingerprint(c.Cert.Raw) }

// ticketKey derives the session ticket key of one time window: every node
// of the cluster computes the same one.
func (c *ClusterCA) ticketKey(window int64) ([32]byte, error) {
	var k [32]byte
	b, err := hkdf.Key(sha256.New, c.seed, nil, fmt.Sprintf("%s%d", ticketInfo, window), len(k))
	if err != nil {
		return k, fmt.Errorf("derive session ticket key: %w", err)
	}
	copy(k[:], b)
	return k, nil
}
