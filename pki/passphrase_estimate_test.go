package pki

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/passtunnel/passtunnel/config"
)

// The words of a passphrase's context count as guessable: a passphrase
// built from its own cluster or tunnel name is refused, though the same
// passphrase passes where those names are unknown.
func TestPassphraseContextWords(t *testing.T) {
	const name = "k8s-payments-eu1"
	const p = name + "-2024!"
	if err := CheckPassphrase(p); err != nil {
		t.Fatalf("without context: %v", err)
	}
	err := CheckPassphraseWith(p, name)
	if err == nil || !strings.HasPrefix(err.Error(), guessable) || !errors.Is(err, ErrWeakPassphrase) {
		t.Errorf("with the cluster name as a word: %v, want %q...", err, guessable)
	}

	m := newTestManager(Options{NodeName: "n"})
	for _, tc := range []struct {
		what string
		set  func(*config.Tunnel)
	}{
		{"cluster", func(t *config.Tunnel) { t.Cluster = name }},
		{"tunnel name", func(t *config.Tunnel) { t.Name = name }},
	} {
		tun := ptunnel(config.ModeServer, p)
		tc.set(tun)
		_, err := m.ServerTLSConfig(tun)
		want := regexp.MustCompile(`^x\.hcl:5:3: tunnel "[a-z0-9-]+": passphrase: too guessable \(estimated \d+ bits, ` +
			`at least 60 required: [a-z ,]+; set allow_weak_passphrase = true to accept it\)$`)
		if err == nil || !want.MatchString(err.Error()) || !errors.Is(err, ErrWeakPassphrase) {
			t.Errorf("passphrase made of the %s: error\n %v\nwant to match\n %s", tc.what, err, want)
		}
	}
}

// The estimator reads a bounded prefix, made valid UTF-8.
func TestEstimatePrefix(t *testing.T) {
	// A 1 MB passphrase with no pattern reaches the estimator, whose cost
	// grows with the cube of what it reads: unbounded, this would not end.
	rng := rand.New(rand.NewPCG(1, 2))
	huge := make([]byte, 1<<20)
	for i := range huge {
		huge[i] = byte('a' + rng.IntN(26))
	}
	if n := utf8.RuneCountInString(estimatePrefix(string(huge))); n != estimateRunes {
		t.Errorf("prefix of a 1 MB passphrase has %d runes, want %d", n, estimateRunes)
	}
	if err := CheckPassphrase(string(huge)); err != nil {
		t.Errorf("1 MB of random letters: %v", err)
	}
	if got := estimatePrefix("\xff\xfeab\xc3\xa9"); got != "ÿþabé" {
		t.Errorf("invalid bytes read as %q, want their Latin-1 characters", got)
	}
	// Random bytes, not UTF-8: strong, and judged so.
	binary := "\x9c\x03\xf1\x7e\xd2\x88\x41\xbb\x06\xe9\x5a\xc4\x17\xfd\x90\x2b\x63\xa8\x0e\xd7"
	if err := CheckPassphrase(binary); err != nil {
		t.Errorf("20 random bytes: %v", err)
	}
	// Strength beyond the prefix is not seen: the first 64 characters
	// must be strong on their own.
	const strong = "q8Vt3LwZ0pXk7RmN2cJy"
	if err := CheckPassphrase(strings.Repeat("iloveyou", 8) + strong); err == nil ||
		!strings.HasPrefix(err.Error(), guessable) {
		t.Errorf("weak 64 characters then a strong tail: %v, want %q...", err, guessable)
	}
}

// Tunnels are built concurrently: the estimator's shared tables must be
// safe to read at once (the race detector watches), with the same verdicts.
func TestCheckPassphraseConcurrent(t *testing.T) {
	ps := []string{"iloveyou12345678", "1qaz2wsx3edc4rfv", "q8Vt3LwZ0pXk7RmN2cJy", "12/25/1987 and 03/04/2001", pass1}
	want := make([]string, len(ps))
	for i, p := range ps {
		want[i] = fmt.Sprint(CheckPassphrase(p))
	}
	var wg sync.WaitGroup
	for range 4 {
		for i, p := range ps {
			wg.Go(func() {
				if got := fmt.Sprint(CheckPassphrase(p)); got != want[i] {
					t.Errorf("concurrent check: %s, alone: %s", got, want[i])
				}
			})
		}
	}
	wg.Wait()
}

// Refusals by the estimate name the kinds of pattern found.
func TestGuessablePatternNames(t *testing.T) {
	for _, tc := range []struct{ passphrase, kind string }{
		{"!QAZ@WSX#EDC$RFV", "a keyboard pattern"},
		{"12/25/1987 and 03/04/2001", "a date"},
		{"football12345678", "common words, names or passwords"},
		{"monkey123dragon456", "a sequence"},
	} {
		err := CheckPassphrase(tc.passphrase)
		if err == nil || !strings.Contains(err.Error(), tc.kind) {
			t.Errorf("error %v, want it to name %q", err, tc.kind)
		}
	}
}

var newPassphraseFormat = regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){6}$`)

func TestNewPassphrase(t *testing.T) {
	a, err := NewPassphrase()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPassphrase()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two new passphrases are equal")
	}
	for _, p := range []string{a, b} {
		if !newPassphraseFormat.MatchString(p) {
			t.Errorf("a new passphrase of %d characters is not 7 groups of 4 lowercase base32 characters", len(p))
		}
		if err := CheckPassphrase(p); err != nil {
			t.Errorf("a new passphrase is refused by the policy: %v", err)
		}
		// 32 symbols, each drawn uniformly: log2(32) bits per character.
		bits := float64(utf8.RuneCountInString(strings.ReplaceAll(p, "-", ""))) * math.Log2(32)
		if bits < 128 || int(bits) != NewPassphraseBits {
			t.Errorf("new passphrase carries %.0f bits, NewPassphraseBits says %d, want both >= 128", bits, NewPassphraseBits)
		}
	}
	c1, c2 := NewClusterName(), NewClusterName()
	if c1 == c2 {
		t.Errorf("two new cluster names are equal: %q", c1)
	}
	for _, c := range []string{c1, c2} {
		if !dnsLabel.MatchString(c) || !regexp.MustCompile(`^c-[a-z2-7]{10}$`).MatchString(c) {
			t.Errorf("new cluster name %q is not c- and 10 base32 characters, a valid cluster", c)
		}
	}
}

// The sample passphrase of the README (and of docs/passphrase.md) is
// strong to the estimate, and yet refused: it is the first one people copy.
func TestDocumentedPassphraseRefused(t *testing.T) {
	sample := regexp.MustCompile(`(?m)^passphrase: (\S+)`)
	var samples [][]string
	for _, doc := range []string{"../README.md", "../docs/passphrase.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		found := sample.FindAllStringSubmatch(string(text), -1)
		if len(found) == 0 {
			t.Fatalf("%s shows no output of pki passphrase", doc)
		}
		samples = append(samples, found...)
	}
	for _, m := range samples {
		err := CheckPassphrase(m[1])
		if err == nil || !strings.HasPrefix(err.Error(), "a well-known placeholder (the example of the documentation)") {
			t.Errorf("README's sample passphrase %q: %v", m[1], err)
		}
		if err := CheckPassphrase(strings.ToUpper(m[1])); err == nil {
			t.Errorf("README's sample passphrase in capitals accepted")
		}
	}
}
