package pki

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/passtunnel/passtunnel/internal/zxcvbn"
)

// MinPassphraseBits is the policy's floor on the entropy estimate: log2 of
// the guesses zxcvbn expects an attacker to need. Each guess at a cluster
// passphrase costs an Argon2id derivation, but a captured handshake can be
// attacked offline for as long as the cluster lives.
const MinPassphraseBits = 60

// estimateRunes bounds what the estimator reads. Its matchers grow with
// about the cube of the length (here: 64 runes in about 10 ms, 128 in
// 100 ms, 512 in 2.5 s) and a passphrase file can be any size, so a huge
// one must not cost a config load seconds of CPU. A passphrase that is not
// strong in its first 64 characters is not strong; any that is, is far
// above the floor by then (a random base32 character adds 3 bits to the
// estimate, a random word over 10).
const estimateRunes = 64

// guessability refuses p when its estimated strength is under the floor.
// The detail names the kinds of pattern that made it guessable, never the
// characters that matched.
func guessability(p string, userWords []string) *weakError {
	// The context's own words first: they are the most likely guesses.
	words := append(slices.Clip(userWords), placeholderWords...)
	r := zxcvbn.PasswordStrength(estimatePrefix(p), words)
	bits := 0.0
	if r.Guesses > 1 {
		bits = math.Log2(r.Guesses)
	}
	if bits >= MinPassphraseBits {
		return nil
	}
	detail := fmt.Sprintf("estimated %d bits, at least %d required", int(bits), MinPassphraseBits)
	if kinds := patternKinds(r); len(kinds) > 0 {
		detail += ": " + strings.Join(kinds, ", ")
	} else {
		detail += ": add characters or words"
	}
	return &weakError{rule: "too guessable", detail: detail}
}

// estimatePrefix is the first estimateRunes runes of p, as valid UTF-8:
// the estimator judges a string with an invalid byte as worthless, so each
// such byte is read as the Latin-1 character of the same value instead,
// which keeps a binary passphrase's bytes distinct.
func estimatePrefix(p string) string {
	var b strings.Builder
	for n := 0; n < estimateRunes && p != ""; n++ {
		r, size := utf8.DecodeRuneInString(p)
		if r == utf8.RuneError && size == 1 {
			r = rune(p[0])
		}
		b.WriteRune(r)
		p = p[size:]
	}
	return b.String()
}

// patternNames are what an operator reads for zxcvbn's match patterns.
// Dictionary matches are not told apart by list: the same word can tie in
// two lists, and the message must not change from run to run.
var patternNames = map[string]string{
	"dictionary": "common words, names or passwords",
	"spatial":    "a keyboard pattern",
	"repeat":     "repetition",
	"sequence":   "a sequence",
	"regex":      "a recent year",
	"date":       "a date",
}

// patternKinds lists, in order and once each, the kinds of the matches the
// estimate is made of; random characters ("bruteforce") are no pattern.
func patternKinds(r zxcvbn.Result) []string {
	var kinds []string
	for _, m := range r.Sequence {
		if k, ok := patternNames[m.Pattern]; ok && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}
