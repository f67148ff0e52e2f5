package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// monitoringDir holds the Prometheus rules and the Grafana dashboard.
var monitoringDir = filepath.Join(repoRoot, "examples", "monitoring")

// TestMonitoringAlertRules: the alert rules are valid, and their unit
// tests (each alert firing on its series, quiet on the others) pass.
func TestMonitoringAlertRules(t *testing.T) {
	t.Parallel()
	promtool := needProgram(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		cmd := exec.CommandContext(ctx, promtool, args...)
		cmd.Dir = monitoringDir
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricName is a passtunnel metric name where it is used.
var metricName = regexp.MustCompile(`passtunnel_[a-z_]*[a-z]`)

// documentedMetrics are the names of docs/behaviour.md's metrics table,
// which a daemon test holds equal to what the collector exposes.
func documentedMetrics(t *testing.T) map[string]bool {
	row := regexp.MustCompile("(?m)^\\| `(passtunnel_[a-z_]+)` \\| ([a-z]+) \\|")
	out := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(mustRead(t, filepath.Join(repoRoot, "docs", "behaviour.md"))), -1) {
		out[m[1]] = true
		if m[2] == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				out[m[1]+s] = true
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("read %d metrics from docs/behaviour.md's table: has its format changed?", len(out))
	}
	return out
}

// unknownMetrics lists the passtunnel_ names in text that are no metric.
func unknownMetrics(known map[string]bool, text string) []string {
	var out []string
	for _, n := range metricName.FindAllString(text, -1) {
		if !known[n] && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestMonitoringNamesExistingMetrics: every query of the dashboard and
// every rule of alerts.yml names only metrics passtunnel exposes (a
// renamed metric would leave an empty panel or an alert that never fires),
// and every panel has a query.
func TestMonitoringNamesExistingMetrics(t *testing.T) {
	t.Parallel()
	known := documentedMetrics(t)
	var dash struct {
		Panels []dashPanel `json:"panels"`
	}
	raw := mustRead(t, filepath.Join(monitoringDir, "dashboard.json"))
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	var exprs int
	for _, p := range leafPanels(dash.Panels) {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			exprs++
			if !metricName.MatchString(q.Expr) {
				t.Errorf("dashboard panel %q: query %q names no passtunnel metric", p.Title, q.Expr)
			}
			if bad := unknownMetrics(known, q.Expr); len(bad) > 0 {
				t.Errorf("dashboard panel %q: %v are no metric of passtunnel: %s", p.Title, bad, q.Expr)
			}
		}
	}
	if exprs < 10 {
		t.Errorf("dashboard.json: %d queries, want the panels the docs promise", exprs)
	}
	// Variables and descriptions name metrics too.
	if bad := unknownMetrics(known, string(raw)); len(bad) > 0 {
		t.Errorf("dashboard.json names %v, which are no metric of passtunnel", bad)
	}
	rules := string(mustRead(t, filepath.Join(monitoringDir, "alerts.yml")))
	if bad := unknownMetrics(known, rules); len(bad) > 0 {
		t.Errorf("alerts.yml names %v, which are no metric of passtunnel", bad)
	}
	for _, a := range []string{"PasstunnelCertificateExpiringSoon", "PasstunnelHandshakeFailureRatio",
		"PasstunnelConnectionsRefused", "PasstunnelTargetDown"} {
		if !strings.Contains(rules, "alert: "+a+"\n") {
			t.Errorf("alerts.yml lacks the alert %s", a)
		}
	}
}

// dashPanel is what the test reads of a Grafana panel; a row panel holds
// more panels.
type dashPanel struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"`
}

// leafPanels is every panel but rows, those inside rows included.
func leafPanels(ps []dashPanel) []dashPanel {
	var out []dashPanel
	for _, p := range ps {
		if p.Type == "row" {
			out = append(out, leafPanels(p.Panels)...)
			continue
		}
		out = append(out, p)
	}
	return out
}
