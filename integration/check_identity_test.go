package integration

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var caFingerprint = regexp.MustCompile(`SHA256(:[0-9A-F]{2}){32}`)

// clusterCAFingerprint is the fingerprint `passtunnel pki ca` prints for
// the passphrase in $envVar of env and cluster.
func clusterCAFingerprint(t *testing.T, env []string, envVar, cluster string) string {
	t.Helper()
	p := startProc(t, binPath, []string{"pki", "ca", "--passphrase-env", envVar, "--cluster", cluster}, procOpts{env: env})
	if code := p.mustExit(t, checkTimeout); code != 0 {
		t.Fatalf("pki ca: exit %d: %s", code, p.stderr.String())
	}
	fp := caFingerprint.FindString(p.stdout.String())
	if fp == "" {
		t.Fatalf("pki ca printed no fingerprint:\n%s", p.stdout.String())
	}
	return fp
}

// TestCheckNamesIdentityAndTrust: check names a passphrase tunnel's
// identity by where the passphrase comes from, its cluster and the
// fingerprints of the CAs of its passphrase and previous passphrases (the
// ones `pki ca` prints), and warns, exiting 0, when a server certificate
// file does not chain to a system root (the fixture's CA is private).
// -skip-files derives nothing and reads no certificate: neither appears.
func TestCheckNamesIdentityAndTrust(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now, old := newPassphrase(t), newPassphrase(t)
	env := []string{"CHECK_PASS=" + now, "CHECK_OLD=" + old}
	cfg := configText(f.serverTun("files", "127.0.0.1:7001", "127.0.0.1:7002")) +
		"tunnel \"pass\" {\n  mode = \"server\"\n  listen = \"127.0.0.1:7003\"\n  target = \"127.0.0.1:7002\"\n" +
		"  passphrase = env(\"CHECK_PASS\")\n  previous_passphrases = [env(\"CHECK_OLD\")]\n  cluster = \"prod-eu\"\n}\n"
	path := writeFile(t, t.TempDir(), "id.hcl", []byte(cfg))

	p, code := runCheck(t, env, "-config", path)
	if code != 0 {
		t.Fatalf("check exit code %d, want 0; stderr:\n%s", code, p.stderr.String())
	}
	out := p.stdout.String()
	want := []string{
		`node certificate from passphrase env("CHECK_PASS"), cluster prod-eu`,
		"cluster CA " + clusterCAFingerprint(t, env, "CHECK_PASS", "prod-eu") + "\n",
		"cluster CA " + clusterCAFingerprint(t, env, "CHECK_OLD", "prod-eu") + " (previous_passphrases element 1)",
		fmt.Sprintf("warning: tls.cert %s does not chain to a system root", f.server.cert),
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("check output lacks %q:\n%s", w, out)
		}
	}
	if n := strings.Count(out, "warning:"); n != 1 {
		t.Errorf("%d warnings, want 1 (the passphrase tunnel has none):\n%s", n, out)
	}

	p, code = runCheck(t, env, "-skip-files", "-config", path)
	if code != 0 {
		t.Fatalf("check -skip-files exit code %d; stderr:\n%s", code, p.stderr.String())
	}
	out = p.stdout.String()
	if !strings.Contains(out, `passphrase env("CHECK_PASS")`) || strings.Contains(out, "SHA256") ||
		strings.Contains(out, "warning:") {
		t.Errorf("check -skip-files: want the identity line, no fingerprint and no warning:\n%s", out)
	}
}
