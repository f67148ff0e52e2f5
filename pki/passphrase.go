package pki

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passtunnel/passtunnel/config"
)

// MinPassphraseLength is the policy's minimum, in characters (runes).
const MinPassphraseLength = 16

// ErrWeakPassphrase is matched (errors.Is) by every refusal of the policy.
var ErrWeakPassphrase = errors.New("weak passphrase")

// weakError names the rule a passphrase broke. It never holds the
// passphrase or any part of it: its text goes to logs and terminals.
type weakError struct {
	rule   string // "too short"
	detail string // "12 characters, at least 16 required"
	hint   string // how to accept it anyway, added for tunnels
}

func (e *weakError) Error() string {
	var parts []string
	for _, s := range []string{e.detail, e.hint} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return e.rule
	}
	return e.rule + " (" + strings.Join(parts, "; ") + ")"
}

func (e *weakError) Is(target error) bool { return target == ErrWeakPassphrase }

// placeholderWords are what people type when a config asks for a secret,
// and the words of this project's own examples. A passphrase made only of
// them (in any order, with digits around) is refused however long it is.
var placeholderWords = []string{
	"changeme", "change", "password", "passw0rd", "p4ssw0rd", "passwd", "pass", "passphrase",
	"secret", "secrets", "topsecret", "example", "sample", "test", "testing", "demo", "dummy",
	"default", "placeholder", "replace", "replaceme", "todo", "fixme", "insecure", "foobar",
	"foo", "bar", "hello", "world", "welcome", "letmein", "admin", "root", "master",
	"qwerty", "qwertyuiop", "asdf", "asdfghjkl", "zxcvbnm", "correct", "horse", "battery", "staple",
	"passtunnel", "tunnel", "cluster", "prod", "production", "staging", "redis", "env",
	"my", "your", "our", "the", "a", "this", "is", "here", "new", "very", "long", "strong", "super",
}

// documentedPassphrases are the sample outputs of `passtunnel pki
// passphrase` shown in the documentation, as patternWeakness normalizes
// them: strong to the estimate, and yet the first thing to be copied.
var documentedPassphrases = []string{"k3vq7mxar2pdwz5hnb4tcu6eyf3j"}

// CheckPassphrase applies the passphrase policy: at least 16 characters, no
// known placeholder, no single repeated character or pattern, not only
// digits, not an alphabet run, and an entropy estimate of at least
// MinPassphraseBits. The error names the rule, never the value.
func CheckPassphrase(p string) error { return CheckPassphraseWith(p) }

// CheckPassphraseWith is CheckPassphrase for a passphrase whose context
// gives an attacker more words to try: the cluster name, a tunnel name.
// Those words count as guessable in the entropy estimate.
func CheckPassphraseWith(p string, userWords ...string) error {
	if e := weakness(p, userWords); e != nil {
		return e
	}
	return nil
}

// weakness applies the rules in order, from the most specific name to the
// most general, so that the error says what an operator can fix.
func weakness(p string, userWords []string) *weakError {
	n := utf8.RuneCountInString(p)
	switch {
	case n == 0:
		return &weakError{rule: "empty"}
	case n < MinPassphraseLength:
		return &weakError{rule: "too short",
			detail: fmt.Sprintf("%d characters, at least %d required", n, MinPassphraseLength)}
	}
	if e := patternWeakness(p); e != nil {
		return e
	}
	return guessability(p, userWords)
}

// patternWeakness is the policy's own rules on the shape of p.
func patternWeakness(p string) *weakError {
	// Case, spaces and punctuation add little against a guesser who knows
	// the placeholder: judge what is left.
	norm := []rune(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, p))
	if len(norm) == 0 {
		norm = []rune(strings.ToLower(p))
	}
	switch period := shortestPeriod(norm); {
	case period == 1:
		return &weakError{rule: "a single repeated character"}
	case period <= len(norm)/2:
		return &weakError{rule: "a repeated pattern", detail: fmt.Sprintf("%d characters repeated", period)}
	}
	switch {
	case strings.IndexFunc(string(norm), func(r rune) bool { return !unicode.IsDigit(r) }) < 0:
		return &weakError{rule: "only digits"}
	case isRun(norm):
		return &weakError{rule: "an alphabet or digit sequence"}
	case slices.Contains(documentedPassphrases, string(norm)):
		return &weakError{rule: "a well-known placeholder", detail: "the example of the documentation"}
	case madeOfPlaceholders(strings.TrimFunc(string(norm), unicode.IsDigit)):
		return &weakError{rule: "a well-known placeholder",
			detail: `made only of words like "changeme", "password", "secret", "example"`}
	}
	return nil
}

// shortestPeriod is the length of the shortest unit s is made of, len(s)
// when it is no repetition.
func shortestPeriod(s []rune) int {
outer:
	for p := 1; p <= len(s)/2; p++ {
		if len(s)%p != 0 {
			continue
		}
		for i := p; i < len(s); i++ {
			if s[i] != s[i-p] {
				continue outer
			}
		}
		return p
	}
	return len(s)
}

// isRun reports "abcdef..." and "987654...": each rune one more (or one
// less) than the one before.
func isRun(s []rune) bool {
	up, down := true, true
	for i := 1; i < len(s); i++ {
		up = up && s[i] == s[i-1]+1
		down = down && s[i] == s[i-1]-1
	}
	return up || down
}

// madeOfPlaceholders reports whether s is a concatenation of placeholder
// words (a word break over a small dictionary).
func madeOfPlaceholders(s string) bool {
	if s == "" {
		return false
	}
	ok := make([]bool, len(s)+1) // ok[i]: s[:i] splits into words
	ok[0] = true
	for i := range len(s) {
		if !ok[i] {
			continue
		}
		for _, w := range placeholderWords {
			if strings.HasPrefix(s[i:], w) {
				ok[i+len(w)] = true
			}
		}
	}
	return ok[len(s)]
}

// checkTunnelPassphrases applies the policy to passphrase and to every
// previous_passphrases entry. With allow_weak_passphrase a weak one passes
// and warn is told which field and rule, so the caller can log it. The
// cluster and tunnel names sit beside the passphrase in the config, so
// they are words a guesser tries first.
func checkTunnelPassphrases(t *config.Tunnel, warn func(field string, err error)) error {
	if err := checkTunnelSecret(t, "passphrase", "", t.Passphrase, warn); err != nil {
		return err
	}
	for i, s := range t.PreviousPassphrases {
		if err := checkTunnelSecret(t, "previous_passphrases", fmt.Sprintf(" element %d", i+1), s, warn); err != nil {
			return err
		}
	}
	return nil
}

// checkTunnelSecret applies the policy to s, the secret of field (label
// names an element of a list), as checkTunnelPassphrases describes: it
// serves shared_secret too.
func checkTunnelSecret(t *config.Tunnel, field, label string, s config.Secret, warn func(field string, err error)) error {
	e := weakness(s.Reveal(), []string{clusterOf(t), t.Name})
	if e == nil {
		return nil
	}
	if t.AllowWeakPassphrase {
		warn(field+label, e)
		return nil
	}
	e.hint = "set allow_weak_passphrase = true to accept it"
	if label != "" {
		return fieldError(t, field, fmt.Errorf("%s: %w", strings.TrimPrefix(label, " "), e))
	}
	return fieldError(t, field, e)
}
