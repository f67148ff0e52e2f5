package integration

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

// TestCloseLineAndDialFailures: the closing line of a carried connection
// names its TLS session, its target and its duration in seconds (a JSON
// number); a tunnel whose target refuses counts the failed dial by target
// and reason, and closes the connection as target_dial_failed; the
// certificate each tunnel starts with is logged with its subject, issuer,
// fingerprint and expiry.
func TestCloseLineAndDialFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	dead := deadTarget(t)
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configText(f.serverTun("carried", "127.0.0.1:0", be.addr),
		f.serverTun("deadend", "127.0.0.1:0", dead)), nil)
	admin := newAdminClient(t, pt.adminAddr(t, 0))

	loaded := pt.mustLog(t, startTimeout, "certificate loaded", logMatch("certificate loaded", "tunnel", "carried"))
	leaf := f.server.tls.Leaf
	for k, want := range map[string]string{"subject": leaf.Subject.String(), "issuer": leaf.Issuer.String(),
		"not_after": leaf.NotAfter.UTC().Format(time.RFC3339)} {
		if got := loaded.str(k); got != want {
			t.Errorf("certificate loaded: %s = %q, want %q", k, got, want)
		}
	}
	if fp := loaded.str("fingerprint"); !strings.HasPrefix(fp, "SHA256:") {
		t.Errorf("certificate loaded: fingerprint %q", fp)
	}

	c := dialTLS(t, pt.listenAddr(t, "carried"), f.clientTLS(f.client))
	roundTrip(t, c, bufio.NewReader(c), "hello", "hello")
	c.Close()
	line := pt.mustLog(t, ioTimeout, "the closing line", logMatch("connection closed", "tunnel", "carried"))
	for k, want := range map[string]string{"tls_version": "TLSv1.3", "resumed": "false", "target": be.addr,
		"reason": "eof", "sni": f.clientTLS(f.client).ServerName} {
		if got := line.str(k); got != want {
			t.Errorf("connection closed: %s = %q, want %q", k, got, want)
		}
	}
	if d, ok := line["duration_s"].(float64); !ok || d <= 0 || d > ioTimeout.Seconds() {
		t.Errorf("connection closed: duration_s = %#v, want seconds as a number", line["duration_s"])
	}
	if _, ok := line["duration"]; ok {
		t.Errorf("connection closed still has duration: %v", line)
	}
	for _, k := range []string{"cipher", "alpn", "peer", "bytes_in", "bytes_out"} {
		if _, ok := line[k]; !ok {
			t.Errorf("connection closed lacks %s: %v", k, line)
		}
	}

	d := dialTLS(t, pt.listenAddr(t, "deadend"), f.clientTLS(f.client))
	expectClosed(t, d, ioTimeout)
	pt.mustLog(t, ioTimeout, "target_dial_failed", logMatch("connection closed", "tunnel", "deadend",
		"reason", "target_dial_failed"))
	got := admin.waitMetric(t, `passtunnel_connections_active{tunnel="deadend"}`, 0, ioTimeout)
	want := map[string]float64{
		`passtunnel_connections_closed_total{reason="eof",tunnel="carried"}`:                                1,
		`passtunnel_connections_closed_total{reason="target_dial_failed",tunnel="deadend"}`:                 1,
		`passtunnel_connection_duration_seconds_count{tunnel="deadend"}`:                                    1,
		`passtunnel_target_dials_total{result="failed",target="` + dead + `",tunnel="deadend"}`:             1,
		`passtunnel_target_dial_failures_total{reason="refused",target="` + dead + `",tunnel="deadend"}`:    1,
		`passtunnel_target_dial_failures_total{reason="refused",target="` + be.addr + `",tunnel="carried"}`: -1,
	}
	for k, v := range want {
		g, ok := got[k]
		if v < 0 {
			if ok {
				t.Errorf("%s present: %v", k, g)
			}
			continue
		}
		if g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}
