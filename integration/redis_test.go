package integration

import (
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRedisThroughTunnels: redis-cli and redis-benchmark -> client tunnel ->
// server tunnel (another process) -> redis-server on a unix socket.
func TestRedisThroughTunnels(t *testing.T) {
	t.Parallel()
	server := needProgram(t, "redis-server")
	cli := needProgram(t, "redis-cli")
	bench := needProgram(t, "redis-benchmark")
	f := newFixture(t)

	dir := shortTempDir(t)
	socket := filepath.Join(dir, "redis.sock")
	rs := startProc(t, server, []string{"--port", "0", "--unixsocket", socket, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", dir}, procOpts{})
	rs.mustLine(t, rs.stdout, startTimeout, "ready to accept connections", func(l string) bool {
		return strings.Contains(strings.ToLower(l), "ready to accept connections")
	})

	_, _, addr := chain(t, f, "unix:"+socket)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("client tunnel address %q: %v", addr, err)
	}

	if out := runProc(t, ioTimeout, cli, "-h", host, "-p", port, "SET", "k", "v").stdout.String(); strings.TrimSpace(out) != "OK" {
		t.Fatalf("SET k v: %q, want OK", out)
	}
	if out := runProc(t, ioTimeout, cli, "-h", host, "-p", port, "GET", "k").stdout.String(); strings.TrimSpace(out) != "v" {
		t.Fatalf("GET k: %q, want v", out)
	}

	out := runProc(t, 90*time.Second, bench, "-h", host, "-p", port, "-q", "-n", "10000", "-t", "set,get").stdout.String()
	rps := regexp.MustCompile(`([A-Z]+): ([0-9.]+) requests per second`).FindAllStringSubmatch(out, -1)
	seen := map[string]bool{}
	for _, m := range rps {
		seen[m[1]] = true
		t.Logf("redis-benchmark through two tunnels: %s %s requests/s", m[1], m[2])
	}
	if !seen["SET"] || !seen["GET"] {
		t.Fatalf("redis-benchmark printed no SET and GET figures:\n%s", out)
	}
}
