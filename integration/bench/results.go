package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
)

// column is one figure of the table; lower says smaller is better.
type column struct {
	key, head string
	lower     bool
}

var columns = []column{
	{"tp1", "1-stream MB/s", false},
	{"cpu1", "CPU s/GB 1-stream", true},
	{"tp8", "8-stream MB/s", false},
	{"cpu8", "CPU s/GB 8-stream", true},
	{"hs", "handshakes/s", false},
	{"hscpu", "CPU ms/handshake", true},
	{"p50", "RTT p50 µs", true},
	{"p99", "RTT p99 µs", true},
	{"wake", "RTT after 1 s idle, p50 µs", true},
	{"mem2000", "KB/idle conn @2k", true},
	{"mem8000", "KB/idle conn @8k", true},
	{"pairWith", "pair conn/s, resumed", false},
	{"pairWithout", "pair conn/s, full handshakes", false},
	{"redis", "redis req/s", false},
	{"redisP50", "redis p50 ms", true},
	{"redisP99", "redis p99 ms", true},
	{"redis16", "redis -P16 req/s", false},
	{"redis16P99", "redis -P16 p99 ms", true},
}

// results gathers every run's figures and the reasons for missing ones.
type results struct {
	mu    sync.Mutex
	kinds []string
	vals  map[string]map[string][]float64 // kind -> key -> one per run
	notes map[string][]string
}

func newResults(kinds []string) *results {
	r := &results{kinds: kinds, vals: map[string]map[string][]float64{},
		notes: map[string][]string{}}
	for _, k := range kinds {
		r.vals[k] = map[string][]float64{}
	}
	return r
}

func (r *results) add(kind, key string, v float64, err error) {
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vals[kind][key] = append(r.vals[kind][key], v)
}

// addKind adds a row after the proxies' (the floor).
func (r *results) addKind(kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds = append(r.kinds, kind)
	r.vals[kind] = map[string][]float64{}
}

func (r *results) note(kind, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.notes[kind], msg) {
		r.notes[kind] = append(r.notes[kind], msg)
	}
}

// median of kind's figure over the runs that produced one; NaN if none.
func (r *results) median(kind, key string) float64 {
	xs := slices.Clone(r.vals[kind][key])
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "n/a"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func (r *results) cell(kind, key string) string {
	s := num(r.median(kind, key))
	if strings.HasPrefix(key, "pair") && s != "n/a" {
		s += fmt.Sprintf(" (%.0f%% resumed)", r.median(kind, key+"Pct"))
	}
	return s
}

// variantDesc says what each pair config variant is.
var variantDesc = map[string]string{
	kindPasstunnel + "/" + variantDefault:  "passtunnel's defaults, curves = [\"X25519\"] as the others offer",
	kindPasstunnel + "/" + variantNoResume: "session_resumption = false on both tunnels",
	kindStunnel + "/" + variantDefault:     "stunnel's defaults",
	kindStunnel + "/" + variantNoResume:    "sessionResume = no and options = NO_TICKET on both services",
	kindHAProxy + "/" + variantDefault:     "haproxy's defaults",
	kindHAProxy + "/" + variantNoResume:    "no-ssl-reuse on the client side's server line",
	kindGoPlain + "/" + variantDefault:     "an LRU client session cache, tickets on",
	kindGoPlain + "/" + variantNoResume:    "no client session cache, tickets off",
}

func (r *results) print(w io.Writer, runs int, s sizes, versions []string) {
	if len(versions) > 0 {
		fmt.Fprintf(w, "%s\n\n", strings.Join(versions, "; "))
	}
	r.table(w, "proxy", columns)
	fmt.Fprintf(w, "\nMedian of %d run(s). Throughput: 1 x %d MiB and %d x %d MiB into a discard sink; "+
		"handshakes: %d full mTLS handshakes (no resumption, X25519, each with a 1-byte echo), %d dialers; "+
		"RTT: %d x 64-byte echoes after %d warm-up, one connection per proxy, all proxies running and taking turns echo by echo, then %d more on the same connections, each round after a %v pause; idle: (RSS_N - RSS_0) / N; "+
		"pair: %d x (connect, 16-byte echo, close), %d dialers, both sides in one process, resumption observed in each ServerHello. "+
		"redis: redis-benchmark -q -c 50 -n %d -t set,get --csv (then -P 16) through a client -> server pair of each proxy to one redis-server "+
		"(\"no proxy\": straight to it), req/s the mean of SET and GET, latencies the worse of the two. "+
		"CPU = utime+stime of the proxy process; MB and GB are 10^6 and 10^9 bytes.\n",
		runs, s.single>>20, s.multi, s.multiEach>>20, s.hsCount, s.hsCon, s.rttN, s.rttWarm, s.wakeN, wakeGap, s.pairN, s.pairCon, s.redisN)
	r.printRatios(w)
	r.printBaseline(w)
	fmt.Fprintf(w, "\nNotes:\n")
	for _, k := range r.kinds {
		for _, p := range pairColumns {
			if len(r.vals[k][p.col]) > 0 {
				head := columns[slices.IndexFunc(columns, func(c column) bool { return c.key == p.col })].head
				fmt.Fprintf(w, "- %s, %s: %s\n", k, head, variantDesc[family(k)+"/"+p.variant])
			}
		}
		for _, n := range r.notes[k] {
			fmt.Fprintf(w, "- %s: %s\n", k, n)
		}
	}
}

// table writes a Markdown table of medians: a row per kind, first heading
// the kinds' column.
func (r *results) table(w io.Writer, first string, cols []column) {
	heads := []string{first}
	for _, c := range cols {
		heads = append(heads, c.head)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat("---|", len(heads)))
	for _, k := range r.kinds {
		row := []string{k}
		for _, c := range cols {
			row = append(row, r.cell(k, c.key))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

func (r *results) printRatios(w io.Writer) {
	const pt = kindPasstunnel
	if !slices.Contains(r.kinds, pt) {
		return
	}
	fmt.Fprintf(w, "\npasstunnel / best of the others (for times, CPU and memory < 1 means passtunnel is ahead; for rates > 1):\n")
	for _, key := range []string{"cpu1", "cpu8", "hscpu", "p50", "p99", "mem2000", "mem8000", "redis", "redisP99", "redis16", "redis16P99"} {
		c := columns[slices.IndexFunc(columns, func(c column) bool { return c.key == key })]
		mine := r.median(pt, key)
		better := func(a, b float64) bool { return a < b }
		if !c.lower {
			better = func(a, b float64) bool { return a > b }
		}
		best, bestKind := r.bestOther(key, better)
		switch {
		case math.IsNaN(mine): // not measured this time (-measure)
		case bestKind == "":
			fmt.Fprintf(w, "- %s: n/a (no other proxy measured)\n", c.head)
		default:
			fmt.Fprintf(w, "- %s: %s (passtunnel %s, best %s %s)\n", c.head, num(mine/best), num(mine), bestKind, num(best))
		}
	}
	if !math.IsNaN(r.median(pt, "pairWith")) {
		r.printPairRatios(w)
	}
}

// printPairRatios compares each proxy's pair figures with and without
// resumption, and passtunnel's resumed rate with the others' full one.
func (r *results) printPairRatios(w io.Writer) {
	var rates, cpus []string
	for _, k := range r.kinds {
		if k == kindNone {
			continue
		}
		rates = append(rates, fmt.Sprintf("%s %s", k, num(r.median(k, "pairWith")/r.median(k, "pairWithout"))))
		full, resumed := r.median(k, "pairWithoutCPU"), r.median(k, "pairWithCPU")
		cpus = append(cpus, fmt.Sprintf("%s %s / %s = %s", k, num(full), num(resumed), num(full/resumed)))
	}
	fmt.Fprintf(w, "- resumption speed-up (pair conn/s resumed / full): %s\n", strings.Join(rates, ", "))
	fmt.Fprintf(w, "- proxy CPU ms per pair connection, full / resumed: %s\n", strings.Join(cpus, ", "))
	best, _ := r.bestOther("pairWithout", func(a, b float64) bool { return a > b })
	fmt.Fprintf(w, "- passtunnel pair conn/s resumed / best of the others' with full handshakes: %s\n",
		num(r.median(kindPasstunnel, "pairWith")/best))
}

// printBaseline compares every figure of this module's passtunnel with the
// -baseline binary's, measured in the same runs.
func (r *results) printBaseline(w io.Writer) {
	if !slices.Contains(r.kinds, kindBaseline) {
		return
	}
	fmt.Fprintf(w, "\npasstunnel / baseline, figure by figure (1 = the same):\n")
	for _, c := range columns {
		mine, base := r.median(kindPasstunnel, c.key), r.median(kindBaseline, c.key)
		if !math.IsNaN(mine) && !math.IsNaN(base) {
			fmt.Fprintf(w, "- %s: %s (passtunnel %s, baseline %s)\n", c.head, num(mine/base), num(mine), num(base))
		}
	}
}

// bestOther is the best median of key among the proxies but passtunnel
// (and its baseline).
func (r *results) bestOther(key string, better func(a, b float64) bool) (float64, string) {
	best, bestKind := math.NaN(), ""
	for _, k := range r.kinds {
		if v := r.median(k, key); family(k) != kindPasstunnel && k != kindNone && !math.IsNaN(v) && (bestKind == "" || better(v, best)) {
			best, bestKind = v, k
		}
	}
	return best, bestKind
}
