package main

import (
	"fmt"
	"slices"
	"strings"
)

// measurements are -measure's default, the proxies' figures, in the order
// a run takes them.
var measurements = []string{"throughput", "handshakes", "rtt", "idle", "pair", measureRedis}

// measureTransparent is a measurement -measure takes that its default
// leaves out: it needs root, ip and nft (see transparent.go).
const measureTransparent = "transparent"

// pick sets h.measure from -measure's comma-separated list.
func (h *harness) pick(list string) error {
	h.measure = map[string]bool{}
	known := append(slices.Clone(measurements), measureSidecar, measureTransparent)
	for _, m := range strings.Split(list, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(known, m) {
			return fmt.Errorf("-measure: unknown %q (have %s)", m, strings.Join(known, ", "))
		}
		h.measure[m] = true
	}
	return nil
}

// measuresProxies says whether a measurement of the proxies side by side
// was picked.
func (h *harness) measuresProxies() bool {
	return slices.ContainsFunc(measurements, func(m string) bool { return h.measure[m] })
}

// suite is one run of the measurements picked for kind, but the round
// trips (see rttRound), each on a fresh proxy.
func (h *harness) suite(kind string, res *results) {
	if h.measure["throughput"] {
		h.measureThroughput(kind, res)
	}
	if h.measure["handshakes"] {
		h.withServer(kind, "handshakes", h.echo.Addr().String(), res, func(p *proxy) error {
			rate, cpu, err := h.handshakes(p, h.size.hsCount, h.size.hsCon)
			res.add(kind, "hs", rate, err)
			res.add(kind, "hscpu", cpu, err)
			return err
		})
	}
	if h.measure["idle"] {
		h.measureIdle(kind, res)
	}
	if h.measure["pair"] {
		h.measurePairs(kind, res)
	}
	if h.measure[measureRedis] && h.redis != nil {
		h.measureRedisPair(kind, res)
	}
}

// withServer runs f against a fresh server of kind in front of target; a
// failure becomes a note on kind.
func (h *harness) withServer(kind, what, target string, res *results, f func(p *proxy) error) {
	h.logf("  %s %s", kind, what)
	p, err := h.startServer(kind, target)
	if err == nil {
		defer p.stop()
		err = f(p)
	}
	if err != nil {
		res.note(kind, fmt.Sprintf("%s: %v", what, err))
	}
}

func (h *harness) measureThroughput(kind string, res *results) {
	s := h.size
	for _, t := range []struct {
		what       string
		streams    int
		each       int64
		tput, cpug string
	}{
		{"1-stream throughput", 1, s.single, "tp1", "cpu1"},
		{fmt.Sprintf("%d-stream throughput", s.multi), s.multi, s.multiEach, "tp8", "cpu8"},
	} {
		h.withServer(kind, t.what, h.sink.ln.Addr().String(), res, func(p *proxy) error {
			mbps, cpu, err := h.throughput(p, t.streams, t.each)
			res.add(kind, t.tput, mbps, err)
			res.add(kind, t.cpug, cpu, err)
			return err
		})
	}
}

func (h *harness) measureIdle(kind string, res *results) {
	h.logf("  %s idle connections %v", kind, h.size.idle)
	mem, err := h.idleMemory(kind, h.size.idle)
	for i, n := range h.size.idle {
		if i < len(mem) {
			res.add(kind, fmt.Sprintf("mem%d", n), mem[i], nil)
		}
	}
	if err != nil {
		res.note(kind, fmt.Sprintf("idle connections: %v", err))
	}
}

// pairColumns are the pair test's config variants and the columns they fill.
var pairColumns = []struct{ variant, col string }{
	{variantDefault, "pairWith"}, {variantNoResume, "pairWithout"},
}

// measurePairs fills the pair columns: the proxy's defaults (which
// resume) and resumption turned off.
func (h *harness) measurePairs(kind string, res *results) {
	for _, v := range pairColumns {
		h.logf("  %s pair (%s)", kind, v.variant)
		f, err := h.pairRate(kind, v.variant, h.size.pairN, h.size.pairCon)
		if err != nil {
			res.note(kind, fmt.Sprintf("pair %s: %v", v.variant, err))
			continue
		}
		res.add(kind, v.col, f.perSec, nil)
		res.add(kind, v.col+"Pct", f.resumedPct, nil)
		res.add(kind, v.col+"CPU", f.cpuMs, nil)
	}
}
