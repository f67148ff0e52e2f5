package integration

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// adminClient talks HTTP to a passtunnel admin endpoint on host:port or
// unix:/path.
type adminClient struct {
	http *http.Client
	base string
}

// adminAddr waits for the "admin listening" line after the first n and
// returns the address it reports.
func (p *proc) adminAddr(t testing.TB, n int) string {
	t.Helper()
	e := p.waitLogs(t, startTimeout, n+1, "admin listening", logMatch("admin listening"))[n]
	if e.str("listen") == "" {
		t.Fatalf("%s: admin listening line without listen address: %v", p.label, e)
	}
	return e.str("listen")
}

func newAdminClient(t testing.TB, addr string) adminClient {
	tr := &http.Transport{DisableKeepAlives: true} // each request sees the endpoint as it is now
	base := "http://" + addr
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		base = "http://admin"
	}
	t.Cleanup(tr.CloseIdleConnections)
	return adminClient{http: &http.Client{Transport: tr, Timeout: ioTimeout}, base: base}
}

// get returns the status and body of a GET of path.
func (a adminClient) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := a.http.Get(a.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// expect fails unless GET path answers code with a body containing want.
func (a adminClient) expect(t testing.TB, path string, code int, want string) string {
	t.Helper()
	got, body := a.get(t, path)
	if got != code || !strings.Contains(body, want) {
		t.Fatalf("GET %s = %d %q, want %d with %q", path, got, body, code, want)
	}
	return body
}

// waitStatus polls GET path until it answers code, within limit.
func (a adminClient) waitStatus(t testing.TB, path string, code int, limit time.Duration) string {
	t.Helper()
	return a.waitBody(t, path, code, "", limit)
}

// waitBody polls GET path until it answers code with a body containing
// want, within limit: a readiness answer can change its reason while its
// code stays (503 "starting" before 503 naming a dead target).
func (a adminClient) waitBody(t testing.TB, path string, code int, want string, limit time.Duration) string {
	t.Helper()
	var body string
	testwait.Poll(t, limit, func() error {
		var got int
		if got, body = a.get(t, path); got != code || !strings.Contains(body, want) {
			return fmt.Errorf("GET %s still %d %q, want %d with %q", path, got, body, code, want)
		}
		return nil
	})
	return body
}

// metrics scrapes /metrics and flattens every passtunnel_ series to
// `name{label="value",...}` -> value, labels sorted. A histogram gives its
// _count only: its buckets and sum depend on the machine's speed.
func (a adminClient) metrics(t testing.TB) map[string]float64 {
	t.Helper()
	code, body := a.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d %q", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	out := map[string]float64{}
	for name, mf := range fams {
		if !strings.HasPrefix(name, "passtunnel_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := labelString(m.GetLabel())
			switch {
			case m.Counter != nil:
				out[name+labels] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[name+labels] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[name+"_count"+labels] = float64(m.GetHistogram().GetSampleCount())
			default:
				t.Fatalf("%s: unexpected metric type %v", name, mf.GetType())
			}
		}
	}
	return out
}

func labelString(pairs []*dto.LabelPair) string {
	if len(pairs) == 0 {
		return ""
	}
	kv := make([]string, 0, len(pairs))
	for _, l := range pairs {
		kv = append(kv, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(kv)
	return "{" + strings.Join(kv, ",") + "}"
}

// waitMetric polls /metrics until series has value, within limit, and
// returns that scrape.
func (a adminClient) waitMetric(t testing.TB, series string, value float64, limit time.Duration) map[string]float64 {
	t.Helper()
	var m map[string]float64
	testwait.Poll(t, limit, func() error {
		m = a.metrics(t)
		if v, ok := m[series]; !ok || v != value {
			return fmt.Errorf("%s = %v, want %v; all: %v", series, m[series], value, m)
		}
		return nil
	})
	return m
}

// diffMetrics describes how got differs from want, series by series.
func diffMetrics(got, want map[string]float64) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok || g != want[k] {
			fmt.Fprintf(&b, "  %s = %v (present %v), want %v\n", k, g, ok, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "  unexpected %s = %v\n", k, got[k])
		}
	}
	return b.String()
}

// hasSeries reports whether m holds series with value v.
func hasSeries(m map[string]float64, series string, v float64) bool {
	got, ok := m[series]
	return ok && got == v
}
