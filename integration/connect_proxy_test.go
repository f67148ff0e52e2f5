package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/connecttest"
)

// proxyClientTunnel is a client tunnel block toward target through the
// proxy connect_proxy names (an HCL expression), with extra lines.
func proxyClientTunnel(f *fixture, name, target, connectProxy, extra string) string {
	return fmt.Sprintf(`tunnel %q {
  mode          = "client"
  listen        = "127.0.0.1:0"
  target        = %q
  connect_proxy = %s
  tls {
    cert        = %q
    key         = %q
    ca          = %q
    server_name = "localhost"
  }
%s}
`, name, target, connectProxy, f.client.cert, f.client.key, f.caA, extra)
}

// TestConnectProxy: a client tunnel (the built binary) reaches a server
// tunnel through an HTTP CONNECT proxy the test runs, with credentials
// from a file, from env() and from --connect-proxy-env; wrong credentials
// (407) refuse the connection as proxy_refused; a proxy that accepts and
// never answers is bounded by connect_timeout. The proxy passwords are
// recorded secrets: the suite's scan fails on any output that holds one.
func TestConnectProxy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	srv := startRun(t, f.serverTun("srv", "127.0.0.1:0", be.addr))
	srvAddr := srv.listenAddr(t, "srv")

	password, wrong := newPassphrase(t), newPassphrase(t)
	cp := connecttest.Start(t, "alice", password)
	stalled := connecttest.Start(t, "alice", password)
	stalled.Stall.Store(true)
	good := recordSecret(t, "http://alice:"+password+"@"+cp.Addr(), false)
	bad := recordSecret(t, "http://alice:"+wrong+"@"+cp.Addr(), false)
	urlFile := writeFile(t, t.TempDir(), "proxy-url", []byte(good+"\n"))

	text := configBlocks(
		proxyClientTunnel(f, "viafile", srvAddr, fmt.Sprintf("file(%q)", urlFile), ""),
		proxyClientTunnel(f, "wrongpw", srvAddr, `env("PT_IT_PROXY_BAD")`, ""),
		proxyClientTunnel(f, "stalled", srvAddr, fmt.Sprintf("%q", "http://"+stalled.Addr()),
			"  limits {\n    connect_timeout = \"500ms\"\n  }\n"))
	cli := runText(t, text, []string{"PT_IT_PROXY_BAD=" + bad})
	viaFile, wrongPW, stall := cli.listenAddr(t, "viafile"), cli.listenAddr(t, "wrongpw"), cli.listenAddr(t, "stalled")
	cli.mustLog(t, ioTimeout, "the proxy's address in the start line", logMatch("tunnel listening", "tunnel", "viafile", "connect_proxy", cp.Addr()))

	echoOnce(t, viaFile, "through the corporate proxy")
	if got := cp.Targets(); len(got) != 1 || got[0] != srvAddr {
		t.Errorf("the proxy was asked for %q, want [%s]", got, srvAddr)
	}
	srv.mustLog(t, ioTimeout, "the client's connection through the proxy", logMatch("connection closed", "peer_subject", "CN=it-client"))

	expectRefusedDial(t, wrongPW, "", ioTimeout)
	e := cli.mustLog(t, ioTimeout, "the 407 refusal", logMatch("connection closed", "tunnel", "wrongpw", "reason", "proxy_refused"))
	if !strings.Contains(e.str("error"), "407 Proxy Authentication Required") {
		t.Errorf("refusal without the proxy's status: %v", e)
	}

	took := expectRefusedDial(t, stall, "", ioTimeout)
	cli.mustLog(t, ioTimeout, "the stalled proxy's timeout", logMatch("connection closed", "tunnel", "stalled", "reason", "proxy_timeout"))
	if took > 5*time.Second {
		t.Errorf("a stalled proxy held the connection %v; connect_timeout is 500ms", took)
	}

	// The same proxy from a variable, by flag.
	flags := startProc(t, binPath, []string{"client", "--listen", "127.0.0.1:0", "--target", srvAddr,
		"--cert", f.client.cert, "--key", f.client.key, "--ca", f.caA, "--server-name", "localhost",
		"--connect-proxy-env", "PT_IT_PROXY", "--log-format", "json"}, procOpts{env: []string{"PT_IT_PROXY=" + good}})
	echoOnce(t, flags.listenAddr(t, "client"), "by flag")

	// check shows where the proxy is, never the credentials.
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	p, code := runCheck(t, []string{"PT_IT_PROXY_BAD=" + bad}, "-config", path)
	if out := p.stdout.String(); code != 0 || !strings.Contains(out, "HTTP CONNECT through "+cp.Addr()) {
		t.Errorf("check: exit %d, plan:\n%s%s", code, out, p.stderr.String())
	}
}
