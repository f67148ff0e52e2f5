package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// maxChange is how far, in percent, goroutines, descriptors and RSS may
// end from their baseline.
const maxChange = 10.0

// result is everything the table shows.
type result struct {
	opt              options
	version          string
	took             time.Duration
	tally            tallySnapshot
	start, end       resources
	startState       idleState
	endState         idleState
	reloads          int64
	configOK, certOK float64
}

// resourceOK says whether one footprint reading ended within maxChange
// of its baseline.
func resourceOK(start, end float64) bool {
	return math.Abs(change(start, end)) <= maxChange
}

// rssJudged says whether RSS counts in the verdict: only when both
// readings followed a garbage collection of the idle daemon, with RSS
// steady since. Before that collection the heap the load left (freed
// but not yet collected, or collected but not yet returned to the
// system) is in RSS, in amounts that depend on when the last collection
// of the load happened to run, not on a leak.
func (r *result) rssJudged() bool { return r.startState.gcSeen && r.endState.gcSeen }

// rssOK holds RSS to the same bound as goroutines and descriptors, or
// says nothing when it is not judged.
func (r *result) rssOK() bool { return !r.rssJudged() || resourceOK(r.start.rss, r.end.rss) }

// pass is the exit rule: no byte lost or corrupted, no failure outside
// the injected faults, and the footprint back to its baseline.
func (r *result) pass() bool {
	t := r.tally
	return t.lost == 0 && t.corrupted == 0 && t.totalUnexpected() == 0 &&
		resourceOK(r.start.goroutines, r.end.goroutines) && resourceOK(r.start.fds, r.end.fds) && r.rssOK()
}

// print writes the one table, in Markdown.
func (r *result) print(w io.Writer) {
	t := r.tally
	var b strings.Builder
	row := func(k, format string, args ...any) { fmt.Fprintf(&b, "| %s | %s |\n", k, fmt.Sprintf(format, args...)) }
	b.WriteString("| measure | value |\n|---|---|\n")
	row("run", "%v of load after %v of warm-up; -conns %d, -seed %d, -reload %v, -max-size %d; %s",
		r.took.Round(time.Second), r.opt.warmup, r.opt.conns, r.opt.seed, r.opt.reload, r.opt.maxSize, r.version)
	row("connections", "%s (%s)", count(t.totalConns()), breakdown(t.conns))
	row("bytes checked", "%s (%s)", count(t.checked), mib(float64(t.checked)))
	row("bytes lost", "%s", count(t.lost))
	row("bytes corrupted", "%s", count(t.corrupted))
	for _, k := range sortedKeys(t.expected) {
		row("failures, expected: "+k, "%s (injected; the client saw: %s)", count(t.expected[k]), breakdown(t.seen[k]))
	}
	if len(t.unexpected) == 0 {
		row("failures, unexpected", "0")
	}
	for _, k := range sortedKeys(t.unexpected) {
		row("failures, unexpected: "+k, "%s", count(t.unexpected[k]))
	}
	row("reloads", "%d SIGHUPs, each with both certificates rotated; the daemon counted %.0f config and %.0f certificate reloads; "+
		"%s healthy transfers passed with a reload begun while they ran", r.reloads, r.configOK, r.certOK, count(t.spanned))
	row("goroutines, start → end", "%s", delta(r.start.goroutines, r.end.goroutines, plain, resourceOK))
	row("open fds, start → end", "%s", delta(r.start.fds, r.end.fds, plain, resourceOK))
	rss := delta(r.start.rss, r.end.rss, mib, func(float64, float64) bool { return r.rssOK() })
	if !r.rssJudged() {
		rss += ", reported only: not both read after a garbage collection (see -gc-wait)"
	}
	row("RSS, start → end", "%s", rss)
	row("Go heap in use, start → end", "%s", delta(r.start.heapInuse, r.end.heapInuse, mib, nil))
	verdict := "PASS"
	if !r.pass() {
		verdict = "FAIL"
	}
	row("result", "**%s**", verdict)
	io.WriteString(w, b.String())
}

// delta shows a start and end reading with the change between them, and
// whether ok accepts it (nil: shown only).
func delta(start, end float64, show func(float64) string, ok func(float64, float64) bool) string {
	s := fmt.Sprintf("%s → %s (%+.1f%%)", show(start), show(end), change(start, end))
	if ok != nil && !ok(start, end) {
		s += fmt.Sprintf(", beyond ±%.0f%%", maxChange)
	}
	return s
}

func breakdown(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %s", k, count(m[k])))
	}
	return strings.Join(parts, ", ")
}

func plain(v float64) string { return fmt.Sprintf("%.0f", v) }

func mib(v float64) string { return fmt.Sprintf("%.1f MiB", v/(1<<20)) }

// count writes n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
