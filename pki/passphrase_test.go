package pki

import (
	"errors"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testlog"
)

// guessable is the start of every refusal by the entropy estimate.
const guessable = "too guessable (estimated "

func TestCheckPassphrase(t *testing.T) {
	tests := []struct{ passphrase, rule string }{
		{pass1, ""},
		{"integration-test-passphrase-never-printed", ""},
		{"Tr0ub4dor&3-tr0ub4dor", ""},
		{"ünïcödé wörds ärë fïnë", ""},
		{"short one", "too short (9 characters, at least 16 required)"},
		{"ääääääääääääää", "too short (14 characters"},
		{"", "empty"},
		{"aaaaaaaaaaaaaaaaaaaa", "a single repeated character"},
		{"!!!!!!!!!!!!!!!!!!!!", "a single repeated character"},
		{"a-a-a-a-a-a-a-a-a-a-a", "a single repeated character"},
		{"abcabcabcabcabcabc", "a repeated pattern (3 characters repeated)"},
		{"changeme changeme", "a repeated pattern"},
		{"1234567890123456", "only digits"},
		{"0000 1111 2222 3333", "only digits"},
		{"abcdefghijklmnopqrs", "an alphabet or digit sequence"},
		{"correct horse battery staple", "a well-known placeholder"},
		{"Correct-Horse-Battery-Staple!", "a well-known placeholder"},
		{"CHANGEME-PASSWORD-SECRET", "a well-known placeholder"},
		{"your secret passphrase here", "a well-known placeholder"},
		{"PASSTUNNEL_PASSPHRASE", "a well-known placeholder"},
		{"cluster-passphrase", "a well-known placeholder"},
		{"2024 my example password 2024", "a well-known placeholder"},
		{"qwertyuiop asdfghjkl", "a well-known placeholder"},
		{"correcthorsebatterystaple", "a well-known placeholder"},
		{"Password123456789!", "a well-known placeholder"},
		{"iloveyouiloveyou", "a repeated pattern (8 characters repeated)"},

		// The entropy estimate: 16 characters and more that pass every
		// rule above, and yet are among the first guesses.
		{"iloveyou12345678", guessable},
		{"1qaz2wsx3edc4rfv", guessable},
		{"football12345678", guessable},
		{"1qazxsw23edcvfr4", guessable}, // keyboard walk
		{"zaq12wsxcde34rfv", guessable}, // keyboard walk
		{"mnbvcxzlkjhgfdsa", guessable}, // keyboard walk, backwards
		{"!QAZ@WSX#EDC$RFV", guessable}, // keyboard walk, shifted
		{"qwerasdfzxcvtyui", guessable}, // keyboard rows
		{"12/25/1987 and 03/04/2001", guessable},
		{"25.12.1987-04.03.2001-x", guessable},
		{"summer2023summer2024!", guessable},
		{"monkey123dragon456", guessable},

		// Strong: random characters, and five random words.
		{"q8Vt3LwZ0pXk7RmN2cJy", ""},
		{"hx7rk2wq9bmz4tnp6vjd", ""},
		{"gravel otter plinth mauve sprocket", ""},
		{"tundra wicker amble fjord quiver", ""},
		{"moat rubric sleet cobalt yodel", ""},
	}
	for _, tc := range tests {
		err := CheckPassphrase(tc.passphrase)
		switch {
		case tc.rule == "" && err != nil:
			t.Errorf("refused a strong passphrase: %v", err)
		case tc.rule == "":
		case err == nil:
			t.Errorf("accepted %q, want %q", tc.passphrase, tc.rule)
		case !strings.HasPrefix(err.Error(), tc.rule) || !errors.Is(err, ErrWeakPassphrase):
			t.Errorf("%q: error %q, want prefix %q and ErrWeakPassphrase", tc.passphrase, err, tc.rule)
		}
		if err != nil && tc.passphrase != "" && strings.Contains(err.Error(), tc.passphrase) {
			t.Errorf("error %q contains the passphrase", err)
		}
		// The estimate's detail is made from what matched: it must name
		// kinds of pattern, never the characters.
		if part := sharedPart(err, tc.passphrase, 4); tc.rule == guessable && part != "" {
			t.Errorf("error %q contains %q, a part of the passphrase", err, part)
		}
	}
}

// sharedPart is the first n-rune piece of p that err's text contains, "" if none.
func sharedPart(err error, p string, n int) string {
	r := []rune(p)
	for i := 0; err != nil && i+n <= len(r); i++ {
		if part := string(r[i : i+n]); strings.Contains(err.Error(), part) {
			return part
		}
	}
	return ""
}

func TestWeakPassphraseTunnelErrors(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	_, err := m.ServerTLSConfig(ptunnel(config.ModeServer, "twelve chars"))
	want := `x.hcl:5:3: tunnel "redis": passphrase: too short (12 characters, at least 16 required; ` +
		`set allow_weak_passphrase = true to accept it)`
	if err == nil || err.Error() != want || !errors.Is(err, ErrWeakPassphrase) {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}
	_, err = m.ClientTLSConfig(ptunnel(config.ModeClient, pass1, pass2, "changeme-changeme"), "h")
	want = `x.hcl:6:3: tunnel "redis": previous_passphrases: element 2: a repeated pattern (8 characters repeated; ` +
		`set allow_weak_passphrase = true to accept it)`
	if err == nil || err.Error() != want {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}
}

// With allow_weak_passphrase the tunnel works and a warning names the
// tunnel and the rule, once, however often the config is built.
func TestWeakPassphraseOptIn(t *testing.T) {
	const weak = "weak-pass-12"
	var logs testlog.Buffer
	m := newTestManager(Options{NodeName: "n", Logger: textLogger(&logs)})
	tun := ptunnel(config.ModeServer, weak, "correct horse battery staple")
	tun.AllowWeakPassphrase = true
	for range 3 {
		if _, err := m.ServerTLSConfig(tun); err != nil {
			t.Fatal(err)
		}
	}
	cli := ptunnel(config.ModeClient, weak)
	cli.AllowWeakPassphrase = true
	r := handshake(t, serverConfig(t, m, tun), clientConfig(t, m, cli))
	if !r.ok() {
		t.Fatalf("server %v, client %v", r.serverErr, r.clientErr)
	}
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one warning per field, got:\n%s", out)
	}
	for _, want := range []string{`level=WARN`, `tunnel=redis`, `field=passphrase`, `rule="too short (12 characters`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("warning %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], `field="previous_passphrases element 1"`) ||
		!strings.Contains(lines[1], "well-known placeholder") {
		t.Errorf("second warning %q", lines[1])
	}
	if strings.Contains(strings.ToLower(out), "weak-pass") || strings.Contains(out, "horse") {
		t.Errorf("a log line contains a passphrase:\n%s", out)
	}
}

// No error of the passphrase path carries the passphrase.
func TestErrorsNeverContainPassphrase(t *testing.T) {
	const secret = "s3cret-value-that-must-not-leak"
	m := newTestManager(Options{NodeName: "n"})
	var errs []error
	for _, mutate := range []func(*config.Tunnel){
		func(t *config.Tunnel) { t.Cluster = "Bad" },
		func(t *config.Tunnel) { t.TLS = &config.TLS{Cert: "/c"} },
		func(t *config.Tunnel) { t.Passphrase = config.NewSecret(secret[:12], "x") },
		func(t *config.Tunnel) { t.PreviousPassphrases = []config.Secret{config.NewSecret(secret+secret, "x")} },
	} {
		tun := ptunnel(config.ModeServer, secret)
		mutate(tun)
		_, err := m.ServerTLSConfig(tun)
		errs = append(errs, err)
	}
	errs = append(errs, CheckPassphrase(secret[:10]))
	_, err := DeriveClusterCA(secret, "Bad Cluster")
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Error("no error")
			continue
		}
		if strings.Contains(err.Error(), secret[:10]) {
			t.Errorf("error contains the passphrase: %v", err)
		}
	}
}
