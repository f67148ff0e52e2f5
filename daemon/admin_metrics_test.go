package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/passtunnel/passtunnel/pki"
	"github.com/passtunnel/passtunnel/proxy"
)

// The collector exposes exactly the Stats it reads at scrape time, for the
// tunnels that exist at that time.
func TestCollectorExposesStats(t *testing.T) {
	expiry := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	redis := tunnelSample{name: "redis", certExpiry: expiry, stats: proxy.Stats{
		Accepted: 7, Active: 2, BytesIn: 100, BytesOut: 2500, AcceptErrors: 4, HandshakesWaiting: 3,
		// A reason this file has never heard of is exposed as it comes.
		Refused:           map[string]uint64{"max_connections": 3, "per_source_rate": 1},
		HandshakeFailures: map[string]uint64{"no_client_cert": 1, "not_tls": 2},
		Handshakes: proxy.Histogram{Bounds: []float64{0.01, 0.1, 1}, Cumulative: []uint64{1, 4, 6},
			Count: 7, Sum: 3.5},
		Closed: map[string]uint64{"eof": 4, "handshake_failed": 1},
		Durations: proxy.Histogram{Bounds: []float64{1, 3600}, Cumulative: []uint64{3, 5},
			Count: 5, Sum: 1800.5},
		Targets: []proxy.TargetStats{{Target: "10.0.0.1:6379", OK: 5, Failed: 2,
			Failures: map[string]uint64{"refused": 1, "timeout": 1}}, {Target: "unix:/run/r.sock", OK: 1, Up: true}},
	}}
	// A client tunnel without a certificate: no expiry series.
	plain := tunnelSample{name: "plain", stats: proxy.Stats{Refused: map[string]uint64{},
		HandshakeFailures: map[string]uint64{}}}
	samples := []tunnelSample{redis, plain}
	c := newCollectorOf("1.2.3",
		func() []tunnelSample { return samples },
		func() map[string]pki.ReloadCounts {
			// "gone" was removed by a reload: pki still counts it, the
			// scrape must not show it.
			return map[string]pki.ReloadCounts{"redis": {OK: 4, Failed: 1}, "gone": {OK: 9}}
		},
		func() map[string]uint64 { return map[string]uint64{"ok": 2, "partial": 0, "refused": 1} })
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	want := `
# HELP passtunnel_accept_errors_total Failed accept calls on the tunnel's listener, each retried after a pause.
# TYPE passtunnel_accept_errors_total counter
passtunnel_accept_errors_total{tunnel="plain"} 0
passtunnel_accept_errors_total{tunnel="redis"} 4
# HELP passtunnel_build_info Always 1; the version label is the running passtunnel version.
# TYPE passtunnel_build_info gauge
passtunnel_build_info{version="1.2.3"} 1
# HELP passtunnel_bytes_total Bytes carried: direction "in" from the accepted peer to the target, "out" back.
# TYPE passtunnel_bytes_total counter
passtunnel_bytes_total{direction="in",tunnel="plain"} 0
passtunnel_bytes_total{direction="in",tunnel="redis"} 100
passtunnel_bytes_total{direction="out",tunnel="plain"} 0
passtunnel_bytes_total{direction="out",tunnel="redis"} 2500
# HELP passtunnel_cert_expiry_timestamp_seconds NotAfter (Unix time) of the certificate the tunnel presents now.
# TYPE passtunnel_cert_expiry_timestamp_seconds gauge
passtunnel_cert_expiry_timestamp_seconds{tunnel="redis"} 1.935817689e+09
# HELP passtunnel_cert_reloads_total Hot reloads of the tunnel's certificate, key and CA files, by result (ok, failed).
# TYPE passtunnel_cert_reloads_total counter
passtunnel_cert_reloads_total{result="failed",tunnel="plain"} 0
passtunnel_cert_reloads_total{result="failed",tunnel="redis"} 1
passtunnel_cert_reloads_total{result="ok",tunnel="plain"} 0
passtunnel_cert_reloads_total{result="ok",tunnel="redis"} 4
# HELP passtunnel_config_reloads_total Config reloads by result: ok, partial (a tunnel could not start or admin could not move), refused (nothing changed).
# TYPE passtunnel_config_reloads_total counter
passtunnel_config_reloads_total{result="ok"} 2
passtunnel_config_reloads_total{result="partial"} 0
passtunnel_config_reloads_total{result="refused"} 1
# HELP passtunnel_connection_duration_seconds How long admitted connections lasted, from accept to close.
# TYPE passtunnel_connection_duration_seconds histogram
passtunnel_connection_duration_seconds_bucket{tunnel="plain",le="+Inf"} 0
passtunnel_connection_duration_seconds_sum{tunnel="plain"} 0
passtunnel_connection_duration_seconds_count{tunnel="plain"} 0
passtunnel_connection_duration_seconds_bucket{tunnel="redis",le="1"} 3
passtunnel_connection_duration_seconds_bucket{tunnel="redis",le="3600"} 5
passtunnel_connection_duration_seconds_bucket{tunnel="redis",le="+Inf"} 5
passtunnel_connection_duration_seconds_sum{tunnel="redis"} 1800.5
passtunnel_connection_duration_seconds_count{tunnel="redis"} 5
# HELP passtunnel_connections_accepted_total Connections admitted for handling (refused ones are counted apart).
# TYPE passtunnel_connections_accepted_total counter
passtunnel_connections_accepted_total{tunnel="plain"} 0
passtunnel_connections_accepted_total{tunnel="redis"} 7
# HELP passtunnel_connections_active Admitted connections not closed yet, handshakes included.
# TYPE passtunnel_connections_active gauge
passtunnel_connections_active{tunnel="plain"} 0
passtunnel_connections_active{tunnel="redis"} 2
# HELP passtunnel_connections_closed_total Admitted connections that ended, by the reason of their closing line (eof, reset, idle_timeout, handshake_failed, ...).
# TYPE passtunnel_connections_closed_total counter
passtunnel_connections_closed_total{reason="eof",tunnel="redis"} 4
passtunnel_connections_closed_total{reason="handshake_failed",tunnel="redis"} 1
# HELP passtunnel_connections_refused_total Connections closed right after accept, by reason (max_connections, shutdown, ...).
# TYPE passtunnel_connections_refused_total counter
passtunnel_connections_refused_total{reason="max_connections",tunnel="redis"} 3
passtunnel_connections_refused_total{reason="per_source_rate",tunnel="redis"} 1
# HELP passtunnel_handshake_duration_seconds Duration of TLS handshakes that succeeded or failed (ones passtunnel cut short are left out).
# TYPE passtunnel_handshake_duration_seconds histogram
passtunnel_handshake_duration_seconds_bucket{tunnel="plain",le="+Inf"} 0
passtunnel_handshake_duration_seconds_sum{tunnel="plain"} 0
passtunnel_handshake_duration_seconds_count{tunnel="plain"} 0
passtunnel_handshake_duration_seconds_bucket{tunnel="redis",le="0.01"} 1
passtunnel_handshake_duration_seconds_bucket{tunnel="redis",le="0.1"} 4
passtunnel_handshake_duration_seconds_bucket{tunnel="redis",le="1"} 6
passtunnel_handshake_duration_seconds_bucket{tunnel="redis",le="+Inf"} 7
passtunnel_handshake_duration_seconds_sum{tunnel="redis"} 3.5
passtunnel_handshake_duration_seconds_count{tunnel="redis"} 7
# HELP passtunnel_handshake_failures_total Failed TLS handshakes, by reason.
# TYPE passtunnel_handshake_failures_total counter
passtunnel_handshake_failures_total{reason="no_client_cert",tunnel="redis"} 1
passtunnel_handshake_failures_total{reason="not_tls",tunnel="redis"} 2
# HELP passtunnel_handshakes_waiting Handshakes waiting now for a slot to compute in (max_handshakes), in accept order.
# TYPE passtunnel_handshakes_waiting gauge
passtunnel_handshakes_waiting{tunnel="plain"} 0
passtunnel_handshakes_waiting{tunnel="redis"} 3
# HELP passtunnel_target_dial_failures_total Failed dials of each target, by reason (refused, timeout, unreachable, dns, proxy_refused, proxy_timeout, error).
# TYPE passtunnel_target_dial_failures_total counter
passtunnel_target_dial_failures_total{reason="refused",target="10.0.0.1:6379",tunnel="redis"} 1
passtunnel_target_dial_failures_total{reason="timeout",target="10.0.0.1:6379",tunnel="redis"} 1
# HELP passtunnel_target_dials_total Dials of each target, by result (ok, failed); with several targets a connection may try more than one.
# TYPE passtunnel_target_dials_total counter
passtunnel_target_dials_total{result="failed",target="10.0.0.1:6379",tunnel="redis"} 2
passtunnel_target_dials_total{result="failed",target="unix:/run/r.sock",tunnel="redis"} 0
passtunnel_target_dials_total{result="ok",target="10.0.0.1:6379",tunnel="redis"} 5
passtunnel_target_dials_total{result="ok",target="unix:/run/r.sock",tunnel="redis"} 1
# HELP passtunnel_target_up 1 unless the target is in backoff after a failed dial or, with target_check, failed its last check.
# TYPE passtunnel_target_up gauge
passtunnel_target_up{target="10.0.0.1:6379",tunnel="redis"} 0
passtunnel_target_up{target="unix:/run/r.sock",tunnel="redis"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	// Names, units and help follow Prometheus' conventions.
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}

	// A reload removed "redis": its series go with it at the next scrape.
	samples = []tunnelSample{plain}
	if n := testutil.CollectAndCount(c, "passtunnel_connections_accepted_total"); n != 1 {
		t.Errorf("after removal: %d accepted series, want 1", n)
	}
	if n := testutil.CollectAndCount(c, "passtunnel_cert_expiry_timestamp_seconds"); n != 0 {
		t.Errorf("after removal: %d expiry series, want 0", n)
	}
}
