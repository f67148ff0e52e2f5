package integration

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// cnOnlyServer starts openssl s_server -rev with a certificate of CA A
// that has CN cn-only.internal and no SAN at all, and returns its address.
func cnOnlyServer(t *testing.T, openssl string, f *fixture) string {
	t.Helper()
	p := issue(t, newAuthorityOf(t, f), f.dir, "cn-only", pkitest.LeafSpec{CommonName: "cn-only.internal", Server: true})
	s := startProc(t, openssl, []string{"s_server", "-accept", "127.0.0.1:0", "-cert", p.cert, "-key", p.key, "-rev"}, procOpts{})
	l := s.mustLine(t, s.stdout, startTimeout, "ACCEPT host:port", func(l string) bool { return strings.HasPrefix(l, "ACCEPT ") })
	return strings.TrimSpace(strings.TrimPrefix(l, "ACCEPT "))
}

// newAuthorityOf is a CA whose certificate replaces f.caA, so that the
// fixture's client tunnels trust it.
func newAuthorityOf(t *testing.T, f *fixture) *pkitest.Authority {
	t.Helper()
	a := newAuthority(t, "passtunnel-it CN CA")
	f.caA = writeFile(t, f.dir, "ca-cn.pem", a.CertPEM())
	return a
}

// cnClient is a client tunnel to addr trusting f.caA, with tls lines.
func cnClient(f *fixture, name, addr, tlsLines string) string {
	return fmt.Sprintf("tunnel %q {\n  mode = \"client\"\n  listen = \"127.0.0.1:0\"\n  target = %q\n"+
		"  tls {\n    ca = %q\n    server_name = \"cn-only.internal\"\n%s\n  }\n}\n", name, addr, f.caA, tlsLines)
}

// TestVerifyModesCNOnlyServer: a server certificate with a CN and no SAN.
// verify = "chain" connects (stunnel's verify = 2); the default refuses it
// naming the fix; legacy_common_name matches the CN and warns once.
func TestVerifyModesCNOnlyServer(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	f := newFixture(t)
	srv := cnOnlyServer(t, openssl, f)
	pt := runText(t, configBlocks(
		cnClient(f, "chain", srv, `    verify = "chain"`),
		cnClient(f, "name", srv, ""),
		cnClient(f, "legacy", srv, "    legacy_common_name = true"),
	), nil)
	through := func(t *testing.T, name, line string) {
		t.Helper()
		c := dial(t, pt.listenAddr(t, name))
		roundTrip(t, c, bufio.NewReader(c), line, reverse(line))
		_ = c.Close() // s_server serves one connection at a time
	}
	t.Run("chain connects", func(t *testing.T) { through(t, "chain", "verify chain") })
	t.Run("name refused with the fix named", func(t *testing.T) {
		e := refusedThrough(t, pt, "name")
		wantError(t, e, "no subject alternative name", "tls.legacy_common_name = true")
	})
	t.Run("legacy CN connects and warns once", func(t *testing.T) {
		through(t, "legacy", "legacy one")
		through(t, "legacy", "legacy two")
		warns := pt.logs(logMatch("server certificate has no subject alternative name; matched on its CN because tls.legacy_common_name = true",
			"tunnel", "legacy"))
		if len(warns) != 1 || warns[0].str("level") != "WARN" {
			t.Errorf("warnings %v, want one WARN", warns)
		}
	})
}

// TestDenyPassphraseNode: deny { fingerprints } refuses one `pki issue`
// certificate of the cluster, reason revoked, on a passphrase server;
// another node certificate still gets in.
func TestDenyPassphraseNode(t *testing.T) {
	passphraseTest(t)
	openssl := needProgram(t, "openssl")
	_, pf := passFile(t)
	denied, other := pkiIssue(t, pf, "it-denied"), pkiIssue(t, pf, "it-other")
	fp := pki.Fingerprint(denied.pair(t).Leaf.Raw)
	srv := startPassRun(t, nil, ptun{name: "s", mode: "server", listen: "127.0.0.1:0", target: startEcho(t).addr, passphrase: pf,
		extra: fmt.Sprintf("  deny { fingerprints = [%q] }", strings.ToLower(fp))})
	addr := srv.listenAddr(t, "s")
	client := func(id issued, line string) *proc {
		c := startProc(t, openssl, []string{"s_client", "-connect", addr, "-CAfile", id.ca, "-verify_return_error", "-quiet",
			"-cert", id.cert, "-key", id.key}, procOpts{stdin: true})
		_, _ = c.stdin.Write([]byte(line + "\n"))
		return c
	}
	t.Run("denied node refused as revoked", func(t *testing.T) {
		const line = "must not arrive from a denied node"
		c := client(denied, line)
		e := srv.mustLog(t, ioTimeout, "handshake failed reason revoked", logMatch("handshake failed", "tunnel", "s", "reason", "revoked"))
		wantError(t, e, fp, "deny.fingerprints")
		c.waitExit(5 * time.Second)
		if strings.Contains(c.stdout.String(), line) {
			t.Fatal("a denied node's bytes were echoed")
		}
	})
	t.Run("other node accepted", func(t *testing.T) {
		const line = "hello from another node"
		c := client(other, line)
		c.mustLine(t, c.stdout, ioTimeout, "echoing "+line, func(l string) bool { return l == line })
		c.kill()
	})
}

// TestStunnelVerify2CNOnly: the migration case of the issue. stunnel with
// `verify = 2` serves a certificate that has a CN and no SAN, which stunnel
// itself accepts; a passtunnel client with verify = "chain" (what the
// importer writes for verify = 2) carries traffic to it, while the default
// name check refuses it and names the fix.
func TestStunnelVerify2CNOnly(t *testing.T) {
	t.Parallel()
	stunnel := needProgram(t, "stunnel4", "stunnel")
	f := newFixture(t)
	be := startEcho(t)
	ca := newAuthorityOf(t, f)
	srv := issue(t, ca, f.dir, "cn-only", pkitest.LeafSpec{CommonName: "cn-only.internal", Server: true})
	cli := issue(t, ca, f.dir, "cn-client", pkitest.LeafSpec{CommonName: "cn-client", Client: true})
	st := startStunnel(t, stunnel, fmt.Sprintf("connect = %s\ncert = %s\nkey = %s\nCAfile = %s\nverify = 2\n",
		be.addr, srv.cert, srv.key, f.caA))
	identity := fmt.Sprintf("    cert = %q\n    key = %q", cli.cert, cli.key)
	pt := runText(t, configBlocks(
		cnClient(f, "chain", st, identity+"\n    verify = \"chain\""),
		cnClient(f, "name", st, identity),
	), nil)
	echoOnce(t, pt.listenAddr(t, "chain"), "through stunnel verify = 2")
	e := refusedThrough(t, pt, "name")
	wantError(t, e, "no subject alternative name", "verify = \"chain\"")
}
