package integration

import (
	"fmt"
	"strings"
	"testing"
)

// startStunnel runs stunnel in the foreground with one service whose accept
// port is picked by freePort (stunnel cannot report port 0), retrying when
// another process grabbed the port first. It returns the accept address.
func startStunnel(t *testing.T, stunnel, service string) string {
	t.Helper()
	dir := t.TempDir()
	for attempt := 1; attempt <= 5; attempt++ {
		addr := freePort(t)
		conf := fmt.Sprintf("foreground = yes\npid =\ndebug = info\n\n[it]\naccept = %s\n%s", addr, service)
		path := writeFile(t, dir, fmt.Sprintf("stunnel-%d.conf", attempt), []byte(conf))
		p := startProc(t, stunnel, []string{path}, procOpts{})
		l, ok := p.stderr.wait(p.done, startTimeout, func(l string) bool {
			return strings.Contains(l, "Service [it]") && strings.Contains(l, "bound to") ||
				strings.Contains(l, "Binding service [it] failed")
		})
		switch {
		case ok && strings.Contains(l, "bound to"):
			return addr
		case ok && strings.Contains(p.stderr.String(), "Address already in use"):
			p.kill()
			t.Logf("stunnel: port %s taken, retrying", addr)
			continue
		}
		t.Fatalf("stunnel did not start (exited: %v)", p.exited())
	}
	t.Fatal("stunnel: no free port after 5 attempts")
	return ""
}

// TestStunnelInterop: stunnel client -> passtunnel server, and passtunnel
// client -> stunnel server, both with mutual authentication.
func TestStunnelInterop(t *testing.T) {
	t.Parallel()
	stunnel := needProgram(t, "stunnel4", "stunnel")
	f := newFixture(t)
	be := startEcho(t)

	t.Run("stunnel client to passtunnel server", func(t *testing.T) {
		pt := startFlags(t, "server", "--listen", "127.0.0.1:0", "--target", be.addr,
			"--cert", f.server.cert, "--key", f.server.key, "--ca", f.caA)
		st := startStunnel(t, stunnel, fmt.Sprintf(
			"client = yes\nconnect = %s\ncert = %s\nkey = %s\nCAfile = %s\nverifyChain = yes\ncheckHost = localhost\n",
			pt.listenAddr(t, ""), f.client.cert, f.client.key, f.caA))
		echoOnce(t, st, "stunnel client speaks to passtunnel")
		e := pt.mustLog(t, ioTimeout, "connection closed", logMatch("connection closed"))
		if !strings.Contains(e.str("peer_subject"), "it-client") {
			t.Errorf("connection closed: peer_subject %q, want the client cert's CN it-client", e.str("peer_subject"))
		}
	})

	t.Run("passtunnel client to stunnel server", func(t *testing.T) {
		st := startStunnel(t, stunnel, fmt.Sprintf(
			"connect = %s\ncert = %s\nkey = %s\nCAfile = %s\nverifyChain = yes\n",
			be.addr, f.server.cert, f.server.key, f.caA))
		pt := startRun(t, f.clientTun("c", "127.0.0.1:0", st))
		echoOnce(t, pt.listenAddr(t, "c"), "passtunnel client speaks to stunnel")
	})
}
