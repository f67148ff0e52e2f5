package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAdminMetrics: after a known mix of traffic, /metrics shows exactly
// the expected counts: 3 connections carried with known bytes, 2 failed
// handshakes (no client certificate, not TLS at all), 1 connection over
// max_connections; the 5 admitted are closed (by reason) and timed, the
// refused one is not.
func TestAdminMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	tn := f.serverTun("metered", "127.0.0.1:0", be.addr)
	tn.limits = `    max_connections = 3`
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configText(tn), nil)
	addr := pt.listenAddr(t, "metered")
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	if w := pt.logs(logMatch("", "level", "WARN")); len(w) > 0 {
		t.Errorf("WARN lines for a loopback admin address: %v", w)
	}

	// Three connections fill the tunnel; each carries one known line.
	var conns []*tls.Conn
	var carried int
	for i := range 3 {
		c := dialTLS(t, addr, f.clientTLS(f.client))
		line := strings.Repeat("x", 10*(i+1))
		roundTrip(t, c, bufio.NewReader(c), line, line)
		carried += len(line) + 1 // and the newline
		conns = append(conns, c)
	}
	refused := dial(t, addr)
	expectClosed(t, refused, 5*time.Second)
	for _, c := range conns {
		c.Close()
	}
	pt.waitLogs(t, ioTimeout, 3, "connection closed", logMatch("connection closed", "tunnel", "metered"))

	noCert := f.clientTLS(f.client)
	noCert.Certificates = nil
	if c, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", addr, noCert); err == nil {
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		_, err = c.Read(make([]byte, 1)) // TLS 1.3: the refusal comes after the client's side is done
		c.Close()
		if err == nil {
			t.Fatal("a client without a certificate was served")
		}
	}
	pt.mustLog(t, ioTimeout, "no_client_cert", logMatch("handshake failed", "reason", "no_client_cert"))
	plain := dial(t, addr)
	if _, err := plain.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, plain, 5*time.Second)
	pt.mustLog(t, ioTimeout, "not_tls", logMatch("handshake failed", "reason", "not_tls"))

	// The failed connections are released after their log line.
	got := admin.waitMetric(t, `passtunnel_connections_active{tunnel="metered"}`, 0, ioTimeout)
	want := map[string]float64{
		`passtunnel_connections_accepted_total{tunnel="metered"}`:                         5,
		`passtunnel_connections_active{tunnel="metered"}`:                                 0,
		`passtunnel_handshakes_waiting{tunnel="metered"}`:                                 0,
		`passtunnel_connections_refused_total{reason="max_connections",tunnel="metered"}`: 1,
		`passtunnel_handshake_failures_total{reason="no_client_cert",tunnel="metered"}`:   1,
		`passtunnel_handshake_failures_total{reason="not_tls",tunnel="metered"}`:          1,
		`passtunnel_handshake_duration_seconds_count{tunnel="metered"}`:                   5,
		`passtunnel_connections_closed_total{reason="eof",tunnel="metered"}`:              3,
		`passtunnel_connections_closed_total{reason="handshake_failed",tunnel="metered"}`: 2,
		`passtunnel_connection_duration_seconds_count{tunnel="metered"}`:                  5,
		`passtunnel_bytes_total{direction="in",tunnel="metered"}`:                         float64(carried),
		`passtunnel_bytes_total{direction="out",tunnel="metered"}`:                        float64(carried),
		`passtunnel_accept_errors_total{tunnel="metered"}`:                                0,
		`passtunnel_cert_expiry_timestamp_seconds{tunnel="metered"}`:                      float64(f.server.tls.Leaf.NotAfter.Unix()),
		`passtunnel_cert_reloads_total{result="ok",tunnel="metered"}`:                     0,
		`passtunnel_cert_reloads_total{result="failed",tunnel="metered"}`:                 0,
		`passtunnel_config_reloads_total{result="ok"}`:                                    0,
		`passtunnel_config_reloads_total{result="partial"}`:                               0,
		`passtunnel_config_reloads_total{result="refused"}`:                               0,
	}
	want[`passtunnel_build_info{version="`+binaryVersion(t, binPath)+`"}`] = 1 // the same as `passtunnel version`
	want[`passtunnel_target_dials_total{result="ok",target="`+be.addr+`",tunnel="metered"}`] = 3
	want[`passtunnel_target_dials_total{result="failed",target="`+be.addr+`",tunnel="metered"}`] = 0
	want[`passtunnel_target_up{target="`+be.addr+`",tunnel="metered"}`] = 1
	if d := diffMetrics(got, want); d != "" {
		t.Errorf("/metrics differs:\n%s", d)
	}
	admin.expect(t, "/healthz", http.StatusOK, "ok")
	admin.expect(t, "/readyz", http.StatusOK, "ready")
}

// TestAdminUnixSocketDrain: the admin endpoint on a unix socket answers;
// /readyz turns 503 as soon as SIGTERM starts the drain, while an open
// connection keeps the process alive, and /healthz stays 200.
func TestAdminUnixSocketDrain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	tn := f.serverTun("held", "127.0.0.1:0", be.addr)
	tn.limits = `    drain_timeout = "60s"`
	sockPath := filepath.Join(shortTempDir(t), "admin.sock")
	cfg := fmt.Sprintf("admin = %q\n%s", "unix:"+sockPath, configText(tn))
	pt := runText(t, cfg, nil)
	addr := pt.listenAddr(t, "held")
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	// "tunnel listening" is logged as each tunnel binds; ready is when all did.
	admin.waitStatus(t, "/readyz", http.StatusOK, startTimeout)
	if m := admin.metrics(t); m[`passtunnel_connections_accepted_total{tunnel="held"}`] != 0 {
		t.Errorf("metrics over the unix socket: %v", m)
	}

	c := dialTLS(t, addr, f.clientTLS(f.client))
	r := bufio.NewReader(c)
	roundTrip(t, c, r, "before", "before")
	pt.signal(t, syscall.SIGTERM)
	body := admin.waitStatus(t, "/readyz", http.StatusServiceUnavailable, ioTimeout)
	if !strings.Contains(body, "draining") {
		t.Errorf("/readyz during the drain: %q, want it to say draining", body)
	}
	admin.expect(t, "/healthz", http.StatusOK, "ok")
	roundTrip(t, c, r, "during the drain", "during the drain") // the held connection still works
	if pt.exited() {
		t.Fatal("exited while a connection was open and drain_timeout not reached")
	}
	c.Close()
	if code := pt.mustExit(t, ioTimeout); code != 0 {
		t.Fatalf("exit code %d after the drain, want 0", code)
	}
	if _, err := os.Lstat(sockPath); !os.IsNotExist(err) {
		t.Errorf("admin socket left behind after exit: %v", err)
	}
}

// TestAdminFlagBeyondLoopback: --admin works in server mode, and an
// address reachable from other hosts is served with a WARN.
func TestAdminFlagBeyondLoopback(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	pt := startFlags(t, "server", "--listen", "127.0.0.1:0", "--target", be.addr,
		"--cert", f.server.cert, "--key", f.server.key, "--ca", f.caA, "--admin", "0.0.0.0:0")
	pt.mustLog(t, startTimeout, "a WARN about the admin address",
		logMatch("admin endpoint is reachable beyond this host: its metrics show tunnel traffic, "+
			"refusals and certificate dates; bind it to loopback or a unix socket, or firewall it", "level", "WARN"))
	_, port, err := net.SplitHostPort(pt.adminAddr(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	admin := newAdminClient(t, net.JoinHostPort("127.0.0.1", port))
	admin.expect(t, "/healthz", http.StatusOK, "ok")
	admin.waitStatus(t, "/readyz", http.StatusOK, startTimeout)
	if m := admin.metrics(t); !hasSeries(m, `passtunnel_connections_active{tunnel="server"}`, 0) {
		t.Errorf("series of the flag tunnel (named after its mode): %v", m)
	}
}
