package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A variable read into a secret is taken: gone from the process
// environment, scrubbed once, and still found by the next load (a reload).
// A variable read into a plain setting stays.
func TestEnvironTakesSecrets(t *testing.T) {
	t.Setenv("PT_TEST_PASS", secretValue)
	t.Setenv("PT_TEST_CLUSTER", "blue")
	var scrubbed []string
	l := Loader{Env: NewEnviron(func(name string) { scrubbed = append(scrubbed, name) })}
	src := tunnelWith(`  passphrase = env("PT_TEST_PASS")
  cluster = env("PT_TEST_CLUSTER")`)
	for load := 1; load <= 2; load++ {
		c, err := l.Parse([]byte(src), filepath.Join(t.TempDir(), "c.hcl"))
		if err != nil {
			t.Fatalf("load %d: %v", load, err)
		}
		if c.Tunnels[0].Passphrase.Reveal() != secretValue || c.Tunnels[0].Cluster != "blue" {
			t.Fatalf("load %d: passphrase or cluster not read", load)
		}
		if _, ok := os.LookupEnv("PT_TEST_PASS"); ok {
			t.Fatalf("load %d: PT_TEST_PASS still in the environment", load)
		}
		if os.Getenv("PT_TEST_CLUSTER") != "blue" {
			t.Fatalf("load %d: a plain setting's variable was taken", load)
		}
	}
	if !slices.Equal(scrubbed, []string{"PT_TEST_PASS"}) {
		t.Errorf("scrubbed %q, want PT_TEST_PASS once", scrubbed)
	}
	// What the loader took, env() of a plain setting still finds.
	c, err := l.Parse([]byte(tunnelWith(`  cluster = env("PT_TEST_PASS") == "" ? "x" : "y"
  passphrase = "a passphrase long enough"`)), "c.hcl")
	if err != nil || c.Tunnels[0].Cluster != "y" {
		t.Errorf("env() of a taken variable: %v", err)
	}
}

func TestEnvironFlagsAndReadSecret(t *testing.T) {
	t.Setenv("PT_TEST_SHARED", secretValue)
	t.Setenv("PT_TEST_PKI", secretValue)
	l := Loader{Env: NewEnviron(nil)}
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := l.BindFlags(fs, ModeClient)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:0", "--target", "db:1", "--ca", "ca.pem",
		"--shared-secret-env", "PT_TEST_SHARED"}); err != nil {
		t.Fatal(err)
	}
	c, err := build()
	if err != nil || c.Tunnels[0].SharedSecret.Reveal() != secretValue {
		t.Fatalf("--shared-secret-env: %v", err)
	}
	s, err := l.ReadSecret("", "PT_TEST_PKI")
	if err != nil || s.Reveal() != secretValue {
		t.Fatalf("ReadSecret: %v", err)
	}
	for _, name := range []string{"PT_TEST_SHARED", "PT_TEST_PKI"} {
		if _, ok := os.LookupEnv(name); ok {
			t.Errorf("%s still in the environment", name)
		}
	}
}
