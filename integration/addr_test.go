package integration

import (
	"bufio"
	"net"
	"path/filepath"
	"testing"
)

// TestIPv6Listen: a server tunnel on [::1]:0 carries traffic.
func TestIPv6Listen(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		skipOrFail(t, "IPv6 loopback ::1 unavailable: %v", err)
	}
	ln.Close()
	f := newFixture(t)
	be := startEcho(t)
	pt := startRun(t, f.serverTun("v6", "[::1]:0", be.addr))
	addr := pt.listenAddr(t, "v6")
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "::1" {
		t.Fatalf("listening on %q, want [::1]:port", addr)
	}
	cfg := f.clientTLS(f.client)
	cfg.ServerName = "" // verify the IP SAN ::1
	c := dialTLS(t, addr, cfg)
	roundTrip(t, c, bufio.NewReader(c), "over ipv6", "over ipv6")
}

// TestUnixSockets: a server tunnel whose target is a unix socket, and a
// client tunnel that listens on one.
func TestUnixSockets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := shortTempDir(t)
	be := startBackend(t, "unix", filepath.Join(dir, "echo.sock"), echo)
	srv := startRun(t, f.serverTun("srv", "127.0.0.1:0", be.addr))
	srvAddr := srv.listenAddr(t, "srv")

	t.Run("unix target", func(t *testing.T) {
		c := dialTLS(t, srvAddr, f.clientTLS(f.client))
		roundTrip(t, c, bufio.NewReader(c), "to a unix target", "to a unix target")
	})

	t.Run("unix listen", func(t *testing.T) {
		listen := sock(dir, "client.sock")
		cli := startRun(t, f.clientTun("cli", listen, srvAddr))
		cli.listenAddr(t, "cli")
		echoOnce(t, listen, "from a unix listener")
	})
}
