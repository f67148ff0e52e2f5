package integration

import (
	"bufio"
	"io"
	"strings"
	"testing"
	"time"
)

// sClient runs openssl s_client against addr presenting p (none if p is
// nil), trusting CA A, and writes line to it.
func sClient(t *testing.T, openssl, addr string, f *fixture, p *pair, line string) *proc {
	t.Helper()
	args := []string{"s_client", "-connect", addr, "-CAfile", f.caA,
		"-verify_return_error", "-verify_hostname", "localhost", "-servername", "localhost", "-quiet"}
	if p != nil {
		args = append(args, "-cert", p.cert, "-key", p.key)
	}
	c := startProc(t, openssl, args, procOpts{stdin: true})
	_, _ = io.WriteString(c.stdin, line+"\n") // fails harmlessly if s_client already quit
	return c
}

// TestOpenSSLClientToServerTunnel: openssl s_client -> server tunnel -> echo.
func TestOpenSSLClientToServerTunnel(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	f := newFixture(t)
	be := startEcho(t)
	pt := startRun(t, f.serverTun("s", "127.0.0.1:0", be.addr))
	addr := pt.listenAddr(t, "s")

	t.Run("client cert from CA A echoes", func(t *testing.T) {
		const line = "hello through passtunnel from openssl"
		c := sClient(t, openssl, addr, f, &f.client, line)
		c.mustLine(t, c.stdout, ioTimeout, "echoing "+line, func(l string) bool { return l == line })
		c.kill() // s_client -quiet ignores stdin EOF
		pt.mustLog(t, ioTimeout, "connection closed", logMatch("connection closed", "tunnel", "s"))
	})

	refused := func(t *testing.T, p *pair, reason string) {
		line := "must not arrive " + reason
		c := sClient(t, openssl, addr, f, p, line)
		pt.mustLog(t, ioTimeout, "handshake failed reason "+reason,
			logMatch("handshake failed", "tunnel", "s", "reason", reason))
		c.waitExit(5 * time.Second) // s_client quits on the alert; it is killed otherwise
		if strings.Contains(c.stdout.String(), line) {
			t.Fatalf("bytes echoed although the handshake must fail with %s", reason)
		}
	}
	t.Run("no client cert refused", func(t *testing.T) { refused(t, nil, "no_client_cert") })
	t.Run("client cert from CA B refused", func(t *testing.T) { refused(t, &f.clientB, "unknown_authority") })
}

// sServer starts openssl s_server -rev (it answers every line reversed),
// requiring a client cert from CA A, and returns its address.
func sServer(t *testing.T, openssl string, f *fixture) string {
	t.Helper()
	s := startProc(t, openssl, []string{"s_server", "-accept", "127.0.0.1:0",
		"-cert", f.server.cert, "-key", f.server.key, "-CAfile", f.caA,
		"-Verify", "1", "-verify_return_error", "-rev"}, procOpts{})
	l := s.mustLine(t, s.stdout, startTimeout, "ACCEPT host:port", func(l string) bool {
		return strings.HasPrefix(l, "ACCEPT ")
	})
	addr := strings.TrimSpace(strings.TrimPrefix(l, "ACCEPT "))
	if strings.HasSuffix(addr, ":0") || !strings.Contains(addr, ":") {
		t.Fatalf("openssl s_server did not report its port: %q", l)
	}
	return addr
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// TestClientTunnelToOpenSSLServer: cleartext -> client tunnel -> s_server.
func TestClientTunnelToOpenSSLServer(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	f := newFixture(t)
	srv := sServer(t, openssl, f)
	wrong := f.clientTun("wrongname", "127.0.0.1:0", srv)
	wrong.serverName = "not-this-server.example"
	pt := startRun(t, f.clientTun("c", "127.0.0.1:0", srv), wrong)
	good, bad := pt.listenAddr(t, "c"), pt.listenAddr(t, "wrongname")

	t.Run("bytes both ways", func(t *testing.T) {
		c := dial(t, good)
		r := bufio.NewReader(c)
		for _, line := range []string{"hello s_server", "second line 0123456789"} {
			roundTrip(t, c, r, line, reverse(line))
		}
	})

	t.Run("server name mismatch refused", func(t *testing.T) {
		expectRefusedDial(t, bad, "must not arrive\n", ioTimeout)
		pt.mustLog(t, ioTimeout, "handshake failed reason bad_certificate",
			logMatch("handshake failed", "tunnel", "wrongname", "reason", "bad_certificate"))
	})
}

// TestOpenSSLClientDistrustsServer: openssl s_client refusing the server
// tunnel's certificate under TLS 1.3 makes crypto/tls report "bad record
// MAC"; the tunnel logs what that most likely means.
func TestOpenSSLClientDistrustsServer(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	f := newFixture(t)
	pt := startRun(t, f.serverTun("s", "127.0.0.1:0", startEcho(t).addr))
	c := startProc(t, openssl, []string{"s_client", "-connect", pt.listenAddr(t, "s"), "-tls1_3", "-CAfile", f.caB,
		"-verify_return_error", "-servername", "localhost", "-cert", f.client.cert, "-key", f.client.key, "-quiet"},
		procOpts{stdin: true})
	e := pt.mustLog(t, ioTimeout, "handshake failed", logMatch("handshake failed", "tunnel", "s"))
	c.waitExit(5 * time.Second)
	if e.str("reason") != "bad_certificate" || !strings.Contains(e.str("error"), "probably does not trust this tunnel's certificate") {
		t.Errorf("handshake failed line %v, want reason bad_certificate and the likely cause", e)
	}
}
