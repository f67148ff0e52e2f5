package integration

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The passphrase policy as operators meet it: `check`, `run` and `pki ca`
// refuse a weak passphrase with the rule at its file:line:col, and
// allow_weak_passphrase starts the tunnel with a warning.

// guessablePassphrases pass the length and shape rules, yet each is in
// every cracking dictionary: the entropy estimate refuses them.
var guessablePassphrases = []string{"iloveyou12345678", "1qaz2wsx3edc4rfv", "football12345678"}

// refusesWeak runs `passtunnel CMD -config F` (check or run) on a server
// tunnel named "weak" with the passphrase in file, and wants exit 1 and an
// error at the passphrase line naming the rule and the opt-in.
func refusesWeak(t *testing.T, cmd, file, target string, rule ...string) {
	t.Helper()
	text := configText(ptun{name: "weak", mode: "server", listen: "127.0.0.1:0", target: target, passphrase: file})
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	line := 0
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "passphrase") {
			line = i + 1
		}
	}
	p := startProc(t, binPath, []string{cmd, "-config", path}, procOpts{})
	if code := p.mustExit(t, checkTimeout); code != 1 {
		t.Errorf("%s: exit code %d, want 1", cmd, code)
	}
	if p.logs(logMatch("tunnel listening")) != nil {
		t.Errorf("%s: the tunnel listened with a weak passphrase", cmd)
	}
	prefix := regexp.MustCompile("^" + regexp.QuoteMeta(fmt.Sprintf("%s:%d:", path, line)) + `\d+: `)
	want := append([]string{`tunnel "weak"`, "passphrase", "allow_weak_passphrase"}, rule...)
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		if prefix.MatchString(l) && containsAll(l, want) {
			return
		}
	}
	t.Errorf("%s: stderr has no line %s... containing %q:\n%s", cmd, prefix, want, p.stderr.String())
}

// TestPassphraseWeakPolicy: the length and placeholder rules stop `check`
// and `run`; allow_weak_passphrase starts with a warning. The value is
// never printed (the suite-wide scan checks that).
func TestPassphraseWeakPolicy(t *testing.T) {
	passphraseTest(t)
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	short := writePassphrase(t, "Wk"+hex.EncodeToString(b)) // 10 characters
	placeholder := writePassphrase(t, "Change-Me-Password-Secret-2024")
	be := startEcho(t)
	for _, cmd := range []string{"check", "run"} {
		t.Run(cmd+": 10 characters refused", func(t *testing.T) { refusesWeak(t, cmd, short, be.addr, "too short", "16") })
		t.Run(cmd+": placeholder refused", func(t *testing.T) { refusesWeak(t, cmd, placeholder, be.addr, "placeholder") })
	}
	t.Run("allow_weak_passphrase starts with a warning", func(t *testing.T) {
		p := startPassRun(t, nil, ptun{name: "weak", mode: "server", listen: "127.0.0.1:0", target: be.addr,
			passphrase: short, allowWeak: true})
		p.listenAddr(t, "weak")
		e := p.mustLog(t, ioTimeout, "WARN about the weak passphrase", func(e logEntry) bool {
			return e.str("level") == "WARN" && strings.Contains(e.str("msg"), "weak passphrase")
		})
		if e.str("tunnel") != "weak" || !strings.Contains(e.str("rule"), "too short") {
			t.Errorf("weak passphrase warning should name the tunnel and the rule: %v", e)
		}
	})
}

// TestPassphraseGuessableRefused: passphrases long enough and of no simple
// shape, but among an attacker's first guesses, are refused by `check`,
// `run` and `pki ca` with the entropy rule named; with the opt-in, `run`
// starts and its warning names the rule, not the value.
func TestPassphraseGuessableRefused(t *testing.T) {
	passphraseTest(t)
	be := startEcho(t)
	const rule = "too guessable (estimated "
	for i, weak := range guessablePassphrases {
		file := writePassphrase(t, weak)
		// Subtests are numbered: a name would print the passphrase.
		t.Run(fmt.Sprintf("passphrase %d", i+1), func(t *testing.T) {
			for _, cmd := range []string{"check", "run"} {
				refusesWeak(t, cmd, file, be.addr, rule, "at least 60 required")
			}

			const envVar = "PASSTUNNEL_IT_WEAK_PASSPHRASE"
			p := startProc(t, binPath, []string{"pki", "ca", "--passphrase-env", envVar},
				procOpts{env: []string{envVar + "=" + weak}})
			if code := p.mustExit(t, pkiTimeout); code != 1 {
				t.Errorf("pki ca: exit code %d, want 1", code)
			}
			if out, errOut := p.stdout.String(), p.stderr.String(); out != "" ||
				!containsAll(errOut, []string{"passphrase from", envVar, rule}) {
				t.Errorf("pki ca: want no CA and the rule on stderr; stdout:\n%s\nstderr:\n%s", out, errOut)
			}

			run := startPassRun(t, nil, ptun{name: "weak", mode: "server", listen: "127.0.0.1:0", target: be.addr,
				passphrase: file, allowWeak: true})
			run.listenAddr(t, "weak")
			e := run.mustLog(t, ioTimeout, "WARN about the weak passphrase", logMatch(
				"weak passphrase accepted because allow_weak_passphrase = true", "level", "WARN", "tunnel", "weak"))
			if !strings.HasPrefix(e.str("rule"), rule) {
				t.Errorf("the warning should name the rule %q...: %v", rule, e)
			}
		})
	}
}

// TestPassphraseDefaultClusterWarning: tunnels that leave the cluster out
// share the default salt with every such deployment; the process says so
// once, however many tunnels do it, and names the way out.
func TestPassphraseDefaultClusterWarning(t *testing.T) {
	passphraseTest(t)
	_, pf := passFile(t)
	be := startEcho(t)
	p := startPassRun(t, nil,
		ptun{name: "one", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf},
		ptun{name: "two", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf},
		ptun{name: "own", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf, cluster: "it-own"})
	for _, name := range []string{"one", "two", "own"} {
		p.listenAddr(t, name)
	}
	isWarning := func(e logEntry) bool {
		return e.str("level") == "WARN" && strings.Contains(e.str("msg"), "default cluster")
	}
	w := p.logs(isWarning)
	if len(w) != 1 {
		t.Fatalf("want one default-cluster warning once every tunnel listens, got %d: %v", len(w), w)
	}
	e := w[0]
	if !strings.Contains(e.str("msg"), "salts the passphrase derivation") || e.str("cluster") != "passtunnel" ||
		!strings.Contains(e.str("hint"), "passtunnel pki passphrase") {
		t.Errorf("the warning should say why and name the cluster and the command: %v", e)
	}
	if tn := e.str("tunnel"); tn != "one" && tn != "two" {
		t.Errorf("the warning names tunnel %q, not one on the default cluster", tn)
	}
}
