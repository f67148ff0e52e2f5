package integration

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSharedSecret: both ends of a CA-verified tunnel prove the same
// shared_secret after the handshake, and traffic flows; with another
// secret, both ends refuse the connection and both logs say shared_secret,
// while the server never dials its target.
func TestSharedSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var dials atomic.Int64 // connections the target received
	be := startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) { dials.Add(1); echo(c) })
	env := []string{"PT_IT_SECRET=" + newPassphrase(t), "PT_IT_OTHER=" + newPassphrase(t)}
	secret := `  shared_secret = env("PT_IT_SECRET")`
	srv := runText(t, configBlocks(withLines(f.serverTun("s", "127.0.0.1:0", be.addr).hcl(), secret)), env)
	saddr := srv.listenAddr(t, "s")
	cli := runText(t, configBlocks(
		withLines(f.clientTun("same", "127.0.0.1:0", saddr).hcl(), secret),
		withLines(f.clientTun("other", "127.0.0.1:0", saddr).hcl(), `  shared_secret = env("PT_IT_OTHER")`),
	), env)

	t.Run("same secret", func(t *testing.T) {
		echoOnce(t, cli.listenAddr(t, "same"), "proved on both ends")
	})
	t.Run("other secret", func(t *testing.T) {
		ce := refusedThrough(t, cli, "other")
		se := srv.mustLog(t, ioTimeout, "handshake failed reason shared_secret",
			logMatch("handshake failed", "tunnel", "s", "reason", "shared_secret"))
		for _, side := range []struct {
			e    logEntry
			want string
		}{{ce, "server refused our shared_secret proof"}, {se, "shared_secret proof does not match"}} {
			if side.e.str("reason") != "shared_secret" || !strings.Contains(side.e.str("error"), side.want) {
				t.Errorf("handshake failed line %v, want reason shared_secret and %q", side.e, side.want)
			}
		}
		// The proof comes before the dial: only "same secret" reached the target.
		if n := dials.Load(); n != 1 {
			t.Errorf("the target received %d connections, want 1", n)
		}
	})
}

// TestSharedSecretGivesNoProofToGuess: a peer the server's certificate
// check admits (here a cluster member from `pki issue`) but that does not
// hold the shared_secret must get nothing to guess the secret against
// offline. The client proves first; the server sends its own proof only
// after checking it, so whether the attacker stays silent or sends a
// wrong proof, not a byte comes back before the connection closes.
func TestSharedSecretGivesNoProofToGuess(t *testing.T) {
	passphraseTest(t)
	_, pf := passFile(t)
	be := startEcho(t)
	env := []string{"PT_IT_SECRET=" + newPassphrase(t)}
	srv := startPassRun(t, env, ptun{name: "s", mode: "server", listen: "127.0.0.1:0", target: be.addr,
		passphrase: pf, extra: "  shared_secret = env(\"PT_IT_SECRET\")\n  limits { handshake_timeout = \"2s\" }\n"})
	id := pkiIssue(t, pf, "it-guesser")
	cfg := &tls.Config{Certificates: []tls.Certificate{id.pair(t)}, InsecureSkipVerify: true}
	for _, wrong := range []int{0, 32} {
		c := dialTLS(t, srv.listenAddr(t, "s"), cfg)
		if wrong > 0 {
			if _, err := c.Write(make([]byte, wrong)); err != nil {
				t.Fatal(err)
			}
		}
		// Silent, the attacker waits for the server's handshake_timeout;
		// with a wrong proof, the server closes at once.
		expectClosed(t, c, ioTimeout)
	}
	srv.waitLogs(t, ioTimeout, 2, "handshake failed", logMatch("handshake failed", "tunnel", "s"))
}

// TestSharedSecretNeedsAuthenticatedPeer: check and run refuse a
// shared_secret that would be proven to a peer nobody verified.
func TestSharedSecretNeedsAuthenticatedPeer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := []string{"PT_IT_SECRET=" + newPassphrase(t)}
	secret := `  shared_secret = env("PT_IT_SECRET")`
	for _, tc := range []struct{ name, text, want string }{
		{"server without client certificates", withLines(strings.Replace(f.serverTun("s", "127.0.0.1:0", "127.0.0.1:1").hcl(),
			"  tls {\n", "  tls {\n    client_auth = \"none\"\n", 1), secret),
			`shared_secret: needs clients authenticated by certificate, and tls.client_auth = "none" lets in clients without one`},
		{"client that verifies nothing", withLines(strings.Replace(f.clientTun("c", "127.0.0.1:0", "127.0.0.1:1").hcl(),
			"  tls {\n", "  tls {\n    insecure_skip_verify = true\n", 1), secret),
			"shared_secret: needs a server authenticated by certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.ReplaceAll(tc.text, fmt.Sprintf("    ca = %q\n", f.caA), "")
			path := writeFile(t, t.TempDir(), "c.hcl", []byte(configBlocks(text)))
			p, code := runCheck(t, env, "-config", path)
			if code != 1 || !strings.Contains(p.stderr.String(), tc.want) {
				t.Fatalf("check: exit %d, stderr:\n%s\nwant %q", code, p.stderr.String(), tc.want)
			}
			run := startProc(t, binPath, []string{"run", "-config", path}, procOpts{env: env})
			if code := run.mustExit(t, checkTimeout); code != 1 || !strings.Contains(run.stderr.String(), tc.want) {
				t.Fatalf("run: exit %d, stderr:\n%s", code, run.stderr.String())
			}
		})
	}
}
