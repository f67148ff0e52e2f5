package integration

import (
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
