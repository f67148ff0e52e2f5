package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Kinds of connection the soak opens, for the table.
const (
	connIntegrity = "integrity"
	connChurn     = "churn"
	connRefused   = "target refused"
	connSlowloris = "slowloris"
	connFlood     = "flood"
)

// Kinds of injected fault: transfers told to fail. Their failure is the
// expected outcome; only a byte that arrives wrong counts against them.
const (
	faultReset   = "backend reset mid-stream"
	faultRefused = "backend refused"
)

// maxDetails bounds the unexpected failures described one by one.
const maxDetails = 20

// tally counts what the soak did and saw, from every worker at once.
type tally struct {
	mu         sync.Mutex
	start      time.Time
	log        io.Writer // unexpected failures, as they happen
	conns      map[string]int64
	checked    int64
	lost       int64
	corrupted  int64
	expected   map[string]int64            // by injected fault kind
	seen       map[string]map[string]int64 // by fault kind: how the client saw the fault
	unexpected map[string]int64            // by failure kind
	details    int
	// spanned counts healthy transfers that passed with a reload begun
	// while they ran.
	spanned int64
	silent  bool // interrupted: the failures that follow are the soak's own doing
}

func newTally(log io.Writer) *tally {
	return &tally{start: time.Now(), log: log, conns: map[string]int64{},
		expected: map[string]int64{}, seen: map[string]map[string]int64{}, unexpected: map[string]int64{}}
}

func (t *tally) conn(kind string) {
	t.mu.Lock()
	t.conns[kind]++
	t.mu.Unlock()
}

// bytes adds one transfer's byte counts: checked against the payload,
// lost (never arrived) and corrupted (arrived wrong).
func (t *tally) bytes(checked, lost, corrupted int64) {
	t.mu.Lock()
	t.checked += checked
	t.lost += lost
	t.corrupted += corrupted
	t.mu.Unlock()
}

func (t *tally) acrossReload() {
	t.mu.Lock()
	t.spanned++
	t.mu.Unlock()
}

// injected counts a transfer that met the fault it injected, and how
// its client saw it: a clean end of the stream, or an error.
func (t *tally) injected(kind, seen string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expected[kind]++
	if t.seen[kind] == nil {
		t.seen[kind] = map[string]int64{}
	}
	t.seen[kind][seen]++
}

// fail counts a failure outside the injected faults and describes the
// first few of them as they happen, with the time into the run, so that
// they can be matched with the daemon's log.
func (t *tally) fail(kind, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.silent {
		return
	}
	t.unexpected[kind]++
	if t.details < maxDetails {
		t.details++
		fmt.Fprintf(t.log, "soak: UNEXPECTED %s at %v: %s\n", kind,
			time.Since(t.start).Round(time.Millisecond), fmt.Sprintf(format, args...))
	} else if t.details == maxDetails {
		t.details++
		fmt.Fprintf(t.log, "soak: further unexpected failures are counted, not described\n")
	}
}

// silence stops counting failures: the run was interrupted and the
// daemon killed, so every transfer in flight is about to fail.
func (t *tally) silence() {
	t.mu.Lock()
	t.silent = true
	t.mu.Unlock()
}

// tallySnapshot is a copy of the counts, safe to read while workers run.
type tallySnapshot struct {
	conns                    map[string]int64
	checked, lost, corrupted int64
	spanned                  int64
	expected, unexpected     map[string]int64
	seen                     map[string]map[string]int64
}

func (t *tally) snapshot() tallySnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := tallySnapshot{conns: maps.Clone(t.conns), checked: t.checked, lost: t.lost, spanned: t.spanned,
		corrupted: t.corrupted, expected: maps.Clone(t.expected), unexpected: maps.Clone(t.unexpected),
		seen: map[string]map[string]int64{}}
	for k, v := range t.seen {
		s.seen[k] = maps.Clone(v)
	}
	return s
}

func (s tallySnapshot) totalConns() int64 { return sum(s.conns) }

func (s tallySnapshot) totalUnexpected() int64 { return sum(s.unexpected) }

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// sortedKeys lists a count map's kinds in a stable order for the table.
func sortedKeys(m map[string]int64) []string {
	return slices.Sorted(maps.Keys(m))
}
