package integration

import (
	"bufio"
	"crypto/tls"
	"net"
	"slices"
	"sync"
	"testing"
)

// sessionResumptionOff is the tls block line that turns resumption off.
const sessionResumptionOff = "    session_resumption = false\n"

// resumedTwice dials addr twice with cfg, which keeps a session cache, and
// returns whether each connection resumed. Each one round-trips a line
// first, so that the session ticket that follows a TLS 1.3 handshake is
// read before the connection closes.
func resumedTwice(t *testing.T, addr string, cfg *tls.Config) []bool {
	t.Helper()
	var resumed []bool
	for _, line := range []string{"first", "second"} {
		c := dialTLS(t, addr, cfg)
		roundTrip(t, c, bufio.NewReader(c), line, line)
		resumed = append(resumed, c.ConnectionState().DidResume)
		c.Close()
	}
	return resumed
}

// TestSessionResumptionServerTunnel: a server tunnel resumes the session
// of a Go client that keeps a session cache; one with
// session_resumption = false makes a full handshake on every connection,
// in TLS 1.2 and 1.3.
func TestSessionResumptionServerTunnel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	p := runText(t, configBlocks(
		f.serverTun("on", "127.0.0.1:0", be.addr).hcl(),
		withBlocks(f.serverTun("off", "127.0.0.1:0", be.addr), sessionResumptionOff, ""),
	), nil)
	for _, tc := range []struct {
		tunnel string
		want   []bool
	}{{"on", []bool{false, true}}, {"off", []bool{false, false}}} {
		addr := p.listenAddr(t, tc.tunnel)
		for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			cfg := f.clientTLS(f.client)
			cfg.MinVersion, cfg.MaxVersion = version, version
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			if got := resumedTwice(t, addr, cfg); !slices.Equal(got, tc.want) {
				t.Errorf("tunnel %q, %s: resumed %v, want %v", tc.tunnel, tls.VersionName(version), got, tc.want)
			}
		}
	}
}

// TestSessionResumptionPassphraseServer: a passphrase tunnel's tls block
// takes session_resumption too; off, the tunnel neither issues tickets
// nor opens the ones its cluster's derived keys would accept.
func TestSessionResumptionPassphraseServer(t *testing.T) {
	passphraseTest(t)
	_, pf := passFile(t)
	be := startEcho(t)
	const node = "it-node" // the name the Go client verifies
	p := startPassRun(t, []string{"PASSTUNNEL_NODE_NAME=" + node},
		ptun{name: "on", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf},
		ptun{name: "off", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf,
			extra: "  tls {\n" + sessionResumptionOff + "  }"})
	id := pkiIssue(t, pf, "it-resume-off")
	client := func() *tls.Config {
		return &tls.Config{
			Certificates:       []tls.Certificate{id.pair(t)},
			RootCAs:            id.roots(t),
			ServerName:         node + ".passtunnel.passtunnel.internal",
			ClientSessionCache: tls.NewLRUClientSessionCache(4),
		}
	}
	on, off := p.listenAddr(t, "on"), p.listenAddr(t, "off")
	if got := resumedTwice(t, on, client()); !slices.Equal(got, []bool{false, true}) {
		t.Errorf("default: resumed %v, want [false true]", got)
	}
	if got := resumedTwice(t, off, client()); !slices.Equal(got, []bool{false, false}) {
		t.Errorf("session_resumption = false: resumed %v, want [false false]", got)
	}
	// A session of the "on" tunnel opens with the cluster's keys, which
	// "off" shares: it must still make a full handshake.
	cfg := client()
	resumedTwice(t, on, cfg)
	if got := resumedTwice(t, off, cfg); got[0] || got[1] {
		t.Errorf("session_resumption = false with a cluster session on offer: resumed %v", got)
	}
}

// resumeRecorder is a Go TLS server, session tickets on, that echoes and
// records whether each handshake resumed a session, as the server sees it.
type resumeRecorder struct {
	*backend
	mu      sync.Mutex
	resumed []bool
}

func startResumeRecorder(t *testing.T, f *fixture) *resumeRecorder {
	t.Helper()
	rr := &resumeRecorder{}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{f.server.tls},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    f.poolA,
	}
	rr.backend = startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		rr.mu.Lock()
		rr.resumed = append(rr.resumed, tc.ConnectionState().DidResume)
		rr.mu.Unlock()
		echo(tc)
	})
	return rr
}

func (rr *resumeRecorder) seen() []bool {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return slices.Clone(rr.resumed)
}

// TestSessionResumptionClientTunnel: a client tunnel resumes its session
// with the target, as the target's Go TLS server sees it; with
// session_resumption = false (in HCL, or --session-resumption=false) the
// target sees a full handshake on every connection.
func TestSessionResumptionClientTunnel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	servers := map[string]*resumeRecorder{}
	for _, name := range []string{"on", "off", "flag-on", "flag-off"} {
		servers[name] = startResumeRecorder(t, f)
	}
	p := runText(t, configBlocks(
		f.clientTun("on", "127.0.0.1:0", servers["on"].addr).hcl(),
		withBlocks(f.clientTun("off", "127.0.0.1:0", servers["off"].addr), sessionResumptionOff, ""),
	), nil)
	flags := func(name string, extra ...string) *proc {
		return startFlags(t, append([]string{"client", "--name", name, "--listen", "127.0.0.1:0",
			"--target", servers[name].addr, "--ca", f.caA, "--cert", f.client.cert, "--key", f.client.key,
			"--server-name", "localhost"}, extra...)...)
	}
	addrs := map[string]string{
		"on":       p.listenAddr(t, "on"),
		"off":      p.listenAddr(t, "off"),
		"flag-on":  flags("flag-on").listenAddr(t, "flag-on"),
		"flag-off": flags("flag-off", "--session-resumption=false").listenAddr(t, "flag-off"),
	}
	for _, tc := range []struct {
		tunnel string
		want   []bool
	}{
		{"on", []bool{false, true}}, {"off", []bool{false, false}},
		{"flag-on", []bool{false, true}}, {"flag-off", []bool{false, false}},
	} {
		echoOnce(t, addrs[tc.tunnel], "first through "+tc.tunnel)
		echoOnce(t, addrs[tc.tunnel], "second through "+tc.tunnel)
		if got := servers[tc.tunnel].seen(); !slices.Equal(got, tc.want) {
			t.Errorf("tunnel %q: the target saw resumed %v, want %v", tc.tunnel, got, tc.want)
		}
	}
}
