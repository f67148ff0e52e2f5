package config

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// secretValue is distinctive enough that finding it anywhere is a leak.
const secretValue = "s3cr3t-Value-that-must-never-print"

// secretDir makes a config directory holding a secret file "p" (content =
// the secret and a newline) and sets PT_TEST_SECRET to the secret.
func secretDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "p"), secretValue+"\n")
	t.Setenv("PT_TEST_SECRET", secretValue)
	return dir
}

func tunnelWith(lines string) string {
	return `tunnel "a" {
  mode   = "client"
  listen = "127.0.0.1:0"
  target = "db:1"
  # no tls block: the passphrase, when lines give one, is the trust
` + lines + "\n}\n"
}

func TestSecretSources(t *testing.T) {
	dir := secretDir(t)
	write(t, filepath.Join(dir, "crlf"), "second\r\n")
	src := tunnelWith(`  passphrase = file("p")
  previous_passphrases = [env("PT_TEST_SECRET"), "literal one", "${file("crlf")}"]
  shared_secret = env("PT_TEST_SECRET")`)
	c, _ := parse([]byte(src), filepath.Join(dir, "c.hcl"))
	tu := c.Tunnels[0]
	got := []Secret{tu.Passphrase, tu.SharedSecret}
	got = append(got, tu.PreviousPassphrases...)
	want := []struct{ value, source string }{
		{secretValue, `file("p")`},
		{secretValue, `env("PT_TEST_SECRET")`},
		{secretValue, `env("PT_TEST_SECRET")`},
		{"literal one", "literal"},
		{"second", `file("crlf")`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d secrets, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Reveal() != w.value || got[i].Source != w.source {
			t.Errorf("secret %d: source %s, value matches: %v; want source %s", i, got[i].Source, got[i].Reveal() == w.value, w.source)
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, tu); strings.Contains(s, secretValue) {
			t.Errorf("fmt %s of a Tunnel prints the secret", verb)
		}
	}
}

func TestSecretSourceErrors(t *testing.T) {
	dir := secretDir(t)
	t.Setenv("PT_TEST_EMPTY", "")
	src := tunnelWith(`  passphrase = env("PT_TEST_UNSET")
  shared_secret = env("PT_TEST_EMPTY")
  previous_passphrases = [file("missing")]`)
	_, err := Parse([]byte(src), filepath.Join(dir, "c.hcl"))
	want := strings.Join([]string{
		`:6:3: tunnel "a": passphrase: env("PT_TEST_UNSET"): environment variable PT_TEST_UNSET is not set`,
		`:7:3: tunnel "a": shared_secret: env("PT_TEST_EMPTY"): environment variable PT_TEST_EMPTY is empty`,
		`:8:3: tunnel "a": previous_passphrases: element 1: file("missing"): cannot read ` + filepath.Join(dir, "missing") + `: no such file or directory`,
	}, "\n"+filepath.Join(dir, "c.hcl"))
	if err == nil || err.Error() != filepath.Join(dir, "c.hcl")+want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, filepath.Join(dir, "c.hcl")+want)
	}
}

// Whatever shape a secret field is given, no message may carry the secret:
// not a type error, not a nested call that would print it as a path or name.
func TestSecretNeverInErrors(t *testing.T) {
	dir := secretDir(t)
	shapes := []string{
		`passphrase = [file("p")]`,
		`passphrase = file("p") + 1`,
		`passphrase = file("p")[0]`,
		`passphrase = upper(env("PT_TEST_SECRET"))`,
		`passphrase = file(file("p"))`,
		`passphrase = env(file("p"))`,
		`passphrase = env(env("PT_TEST_SECRET"))`,
		`passphrase = "${file("p")}${env("PT_TEST_SECRET")}"`,
		`passphrase = file("p") == "x" ? 1 : 2`,
		`passphrase = file("p", "q")`,
		`passphrase = { a = file("p") }`,
		`passphrase = "` + secretValue + `" + 1`,
		`previous_passphrases = file("p")`,
		`previous_passphrases = [file("p"), 5]`,
		`previous_passphrases = [for x in [file("p")] : x]`,
		`shared_secret = tonumber(file("p"))`,
		`shared_secret = [env("PT_TEST_SECRET")]`,
		// A plain field reading the same secret as a secret field: the value
		// shows in the plain field's message and is scrubbed there.
		"passphrase = file(\"p\")\n  cluster = file(\"p\")",
		"passphrase = file(\"p\")\n  tls { alpn = [file(\"p\"), \"\"] }",
	}
	for _, shape := range shapes {
		_, errs := parse([]byte(tunnelWith("  "+shape)), filepath.Join(dir, "c.hcl"))
		if len(errs) == 0 {
			t.Errorf("%s: accepted", shape)
			continue
		}
		if msg := errs.Error(); strings.Contains(msg, secretValue) {
			t.Errorf("%s: error shows the secret:\n%s", shape, msg)
		}
		for _, e := range errs {
			if strings.Contains(fmt.Sprintf("%#v", e), secretValue) {
				t.Errorf("%s: Error struct holds the secret", shape)
			}
		}
	}
}

func TestSecretShapeMessage(t *testing.T) {
	secretDir(t)
	_, err := Parse([]byte(tunnelWith(`  passphrase = file(file("p"))`)), "c.hcl")
	want := `c.hcl:6:3: tunnel "a": passphrase: must be a string, env("NAME") or file("PATH")`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestSecretRedaction(t *testing.T) {
	es := Errors{{Msg: "a " + secretValue + " b"}, {Msg: "abcd"}, {Msg: "b"}}
	es.redact([]string{secretValue, "abcd", "b"})
	want := Errors{{Msg: "a [redacted] b"}, {Msg: "[redacted]"}, {Msg: "b"}}
	if !reflect.DeepEqual(es, want) {
		t.Errorf("redact = %#v", es)
	}
}
