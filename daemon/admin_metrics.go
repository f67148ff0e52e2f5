package daemon

import (
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passtunnel/passtunnel/pki"
	"github.com/passtunnel/passtunnel/proxy"
)

// tunnelSample is what a scrape reads of one running tunnel.
type tunnelSample struct {
	name  string
	stats proxy.Stats
	// certExpiry is the NotAfter of the certificate presented now; zero
	// when the tunnel presents none (a client without tls.cert) or has
	// none yet (acme).
	certExpiry time.Time
}

// collector turns the fleet's counters into Prometheus metrics at scrape
// time. It keeps no state: proxy and pki own the counters, so tunnels a
// reload adds or removes appear or disappear with the next scrape, and a
// tunnel changed in place (the same proxy.Tunnel) keeps counting up.
type collector struct {
	version       string
	tunnels       func() []tunnelSample
	certReloads   func() map[string]pki.ReloadCounts
	configReloads func() map[string]uint64 // by result
	groups        func() []groupSample     // nil: none (see listeners.go)

	buildInfo, accepted, refused, active, closed, durations, handshakes, hsFailures, hsWaiting, bytes, acceptErrors,
	certExpiry, certReloadsD, configReloadsD, targetDials, dialFailures, targetUp, peerResets *prometheus.Desc
}

func newCollector(f *Fleet) *collector {
	c := newCollectorOf(f.version, f.samples, f.pki.ReloadStats, f.reloads.byResult)
	c.groups = f.groupSamples
	return c
}

func newCollectorOf(version string, tunnels func() []tunnelSample, certReloads func() map[string]pki.ReloadCounts,
	configReloads func() map[string]uint64) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("passtunnel_"+name, help, labels, nil)
	}
	return &collector{
		version: version, tunnels: tunnels, certReloads: certReloads, configReloads: configReloads,
		buildInfo: d("build_info", "Always 1; the version label is the running passtunnel version.", "version"),
		accepted: d("connections_accepted_total",
			"Connections admitted for handling (refused ones are counted apart).", "tunnel"),
		refused: d("connections_refused_total",
			"Connections closed right after accept, by reason (max_connections, shutdown, ...).", "tunnel", "reason"),
		active: d("connections_active", "Admitted connections not closed yet, handshakes included.", "tunnel"),
		closed: d("connections_closed_total",
			"Admitted connections that ended, by the reason of their closing line (eof, reset, idle_timeout, handshake_failed, ...).",
			"tunnel", "reason"),
		durations: d("connection_duration_seconds", "How long admitted connections lasted, from accept to close.", "tunnel"),
		handshakes: d("handshake_duration_seconds",
			"Duration of TLS handshakes that succeeded or failed (ones passtunnel cut short are left out).", "tunnel"),
		hsFailures: d("handshake_failures_total", "Failed TLS handshakes, by reason.", "tunnel", "reason"),
		hsWaiting: d("handshakes_waiting",
			"Handshakes waiting now for a slot to compute in (max_handshakes), in accept order.", "tunnel"),
		bytes: d("bytes_total",
			`Bytes carried: direction "in" from the accepted peer to the target, "out" back.`, "tunnel", "direction"),
		acceptErrors: d("accept_errors_total",
			"Failed accept calls on the tunnel's listener, each retried after a pause.", "tunnel"),
		certExpiry: d("cert_expiry_timestamp_seconds",
			"NotAfter (Unix time) of the certificate the tunnel presents now.", "tunnel"),
		certReloadsD: d("cert_reloads_total",
			"Hot reloads of the tunnel's certificate, key and CA files, by result (ok, failed).", "tunnel", "result"),
		targetDials: d("target_dials_total",
			"Dials of each target, by result (ok, failed); with several targets a connection may try more than one.",
			"tunnel", "target", "result"),
		dialFailures: d("target_dial_failures_total",
			"Failed dials of each target, by reason (refused, timeout, unreachable, dns, proxy_refused, proxy_timeout, error).",
			"tunnel", "target", "reason"),
		peerResets: d("peer_resets_total",
			"Accepted connections closed with a TCP reset because their target could not be reached or reset, by close reason.",
			"tunnel", "reason"),
		targetUp: d("target_up", "1 unless the target is in backoff after a failed dial or, with target_check, failed its last check.",
			"tunnel", "target"),
		configReloadsD: d("config_reloads_total",
			"Config reloads by result: ok, partial (a tunnel could not start or admin could not move), refused (nothing changed).", "result"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// descs is every metric the collector sends.
func (c *collector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{c.buildInfo, c.accepted, c.refused, c.active, c.closed, c.durations, c.handshakes,
		c.hsFailures, c.hsWaiting, c.bytes, c.acceptErrors, c.certExpiry, c.certReloadsD, c.configReloadsD, c.targetDials,
		c.dialFailures, c.targetUp, c.peerResets, sniRefusedDesc}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue
	ch <- prometheus.MustNewConstMetric(c.buildInfo, gauge, 1, c.version)
	reloads := c.certReloads()
	for _, t := range c.tunnels() {
		s := t.stats
		ch <- prometheus.MustNewConstMetric(c.accepted, counter, float64(s.Accepted), t.name)
		ch <- prometheus.MustNewConstMetric(c.active, gauge, float64(s.Active), t.name)
		ch <- prometheus.MustNewConstMetric(c.hsWaiting, gauge, float64(s.HandshakesWaiting), t.name)
		// Reasons are read as they come: proxy adds new ones (rate
		// limits, PROXY headers) without this file knowing.
		sendByKey(ch, c.refused, s.Refused, t.name)
		sendByKey(ch, c.hsFailures, s.HandshakeFailures, t.name)
		sendByKey(ch, c.closed, s.Closed, t.name)
		sendByKey(ch, c.peerResets, s.PeerResets, t.name)
		ch <- prometheus.MustNewConstMetric(c.bytes, counter, float64(s.BytesIn), t.name, "in")
		ch <- prometheus.MustNewConstMetric(c.bytes, counter, float64(s.BytesOut), t.name, "out")
		ch <- prometheus.MustNewConstMetric(c.acceptErrors, counter, float64(s.AcceptErrors), t.name)
		c.collectTargets(ch, t.name, s.Targets)
		ch <- constHistogram(c.handshakes, s.Handshakes, t.name)
		ch <- constHistogram(c.durations, s.Durations, t.name)
		if !t.certExpiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.certExpiry, gauge, float64(t.certExpiry.Unix()), t.name)
		}
		// Every tunnel gets both results, zeros included, so that alerts
		// on increase() see a series before the first reload.
		r := reloads[t.name]
		ch <- prometheus.MustNewConstMetric(c.certReloadsD, counter, float64(r.OK), t.name, "ok")
		ch <- prometheus.MustNewConstMetric(c.certReloadsD, counter, float64(r.Failed), t.name, "failed")
	}
	if c.groups != nil {
		collectGroups(ch, c.groups())
	}
	byResult := c.configReloads()
	for _, result := range slices.Sorted(maps.Keys(byResult)) {
		ch <- prometheus.MustNewConstMetric(c.configReloadsD, counter, float64(byResult[result]), result)
	}
}

// sendByKey sends one counter per key of counts (a reason, read as it
// comes: proxy adds new ones without this file knowing), keys sorted, the
// key the last label after labels.
func sendByKey(ch chan<- prometheus.Metric, d *prometheus.Desc, counts map[string]uint64, labels ...string) {
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(counts[k]), append(labels, k)...)
	}
}

// constHistogram is h in Prometheus' form.
func constHistogram(d *prometheus.Desc, h proxy.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Cumulative[i]
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, labels...)
}

// collectTargets sends the counts and state of a tunnel's targets.
func (c *collector) collectTargets(ch chan<- prometheus.Metric, tunnel string, targets []proxy.TargetStats) {
	for _, ts := range targets {
		ch <- prometheus.MustNewConstMetric(c.targetDials, prometheus.CounterValue, float64(ts.OK), tunnel, ts.Target, "ok")
		ch <- prometheus.MustNewConstMetric(c.targetDials, prometheus.CounterValue, float64(ts.Failed), tunnel, ts.Target, "failed")
		sendByKey(ch, c.dialFailures, ts.Failures, tunnel, ts.Target)
		up := 0.0
		if ts.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.targetUp, prometheus.GaugeValue, up, tunnel, ts.Target)
	}
}

// samples reads every running tunnel for a scrape.
func (f *Fleet) samples() []tunnelSample {
	v := f.view.Load()
	if v == nil {
		return nil
	}
	out := make([]tunnelSample, 0, len(v.tunnels))
	for _, t := range v.tunnels {
		exp, _ := t.id.Expiry() // an error is /readyz's to report
		out = append(out, tunnelSample{name: t.cfg.Name, stats: t.tunnel.Stats(), certExpiry: exp})
	}
	return out
}

// byResult is the config reload count by the result label.
func (r *reloadStats) byResult() map[string]uint64 {
	return map[string]uint64{
		"ok":      uint64(r.succeeded.Load()),
		"partial": uint64(r.partial.Load()),
		"refused": uint64(r.refused.Load()),
	}
}
