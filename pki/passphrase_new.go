package pki

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strings"
)

// The passphrases NewPassphrase makes: lowercase base32 (RFC 4648: a-z and
// 2-7, so no 0, 1, 8 or 9 to mistake for o, l, b or g), five bits a
// character, in groups of four joined by '-' so that a person can read one
// out or compare two.
const (
	newPassphraseGroups   = 7
	newPassphraseGroupLen = 4
	// NewPassphraseBits is the entropy of a NewPassphrase: 28 characters.
	NewPassphraseBits = newPassphraseGroups * newPassphraseGroupLen * 5
	// clusterNameChars is the random part of NewClusterName: 50 bits. A
	// cluster name is no secret, only unique to its deployment.
	clusterNameChars = 10
)

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewPassphrase is a new random passphrase of NewPassphraseBits bits from
// crypto/rand, which passes the passphrase policy.
func NewPassphrase() (string, error) {
	// A uniform 140-bit string falls under the policy's floor with a
	// probability far below any that matters; drawing again when it does
	// makes "passes the policy" a guarantee at no measurable cost in
	// entropy. The bound only stops a broken estimator from looping.
	for range 8 {
		chars := randomBase32(newPassphraseGroups * newPassphraseGroupLen)
		groups := make([]string, 0, newPassphraseGroups)
		for len(chars) > 0 {
			groups = append(groups, chars[:newPassphraseGroupLen])
			chars = chars[newPassphraseGroupLen:]
		}
		p := strings.Join(groups, "-")
		if CheckPassphrase(p) == nil {
			return p, nil
		}
	}
	return "", errors.New("new passphrase: every random draw was refused by the passphrase policy")
}

// NewClusterName is a random cluster name: "c-" and 10 base32 characters,
// a DNS label as a cluster must be, and unique to a deployment.
func NewClusterName() string {
	return "c-" + randomBase32(clusterNameChars)
}

// randomBase32 is n uniformly random characters of lowerBase32.
func randomBase32(n int) string {
	b := make([]byte, (n*5+7)/8)
	// crypto/rand.Read never fails (Go 1.24+); it panics if the OS cannot give entropy.
	_, _ = rand.Read(b)
	// The encoding may end in a character made partly of padding bits:
	// only the first n are kept, each of them five random bits.
	return lowerBase32.EncodeToString(b)[:n]
}
