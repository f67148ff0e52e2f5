package daemon

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"
)

// A burst of connections leaves memory behind once it is over: the stacks
// of the goroutines that moved its bytes (a direction gives its goroutine
// up after half a second without traffic) and the garbage the collector's
// headroom lets pile up. The runtime returns free pages to the system only
// slowly and collects garbage only when the heap grows again, so 2,000
// idle connections held 45 MB where their state needs 27 (22.6 KB per
// connection against 13.5 once returned: `go run ./integration/bench
// -measure idle`). The trimmer returns it once per burst.
const (
	trimTick = time.Second
	// trimFall is how far the goroutine count must fall from its peak
	// since the last trim: about 256 connections gone idle, megabytes of
	// stacks.
	trimFall = 512
	// trimStill: the count moved by less than this over the last tick, so
	// the burst is over rather than between two waves.
	trimStill = 64
	// trimEvery bounds the cost: a trim is a full collection, whose CPU
	// grows with the live heap (tens of milliseconds for 10,000 idle
	// connections).
	trimEvery = 5 * time.Second
)

// memoryTrimmer is the one place the daemon returns memory to the
// system: after each burst (see trimFall), and when asked to (request),
// after start and after each reload, whose loads leave garbage. It runs
// the collection on its own goroutine, off the fleet's signal loop.
type memoryTrimmer struct {
	asked chan struct{}
}

func newMemoryTrimmer() *memoryTrimmer {
	return &memoryTrimmer{asked: make(chan struct{}, 1)}
}

// request asks for a trim as soon as the trimmer runs; requests made
// before it gets to them count as one. It never blocks.
func (m *memoryTrimmer) request() {
	select {
	case m.asked <- struct{}{}:
	default:
	}
}

// run trims until ctx ends.
func (m *memoryTrimmer) run(ctx context.Context, log *slog.Logger) {
	tick := time.NewTicker(trimTick)
	defer tick.Stop()
	prev := runtime.NumGoroutine()
	peak, last := prev, time.Time{}
	for {
		why := "burst"
		select {
		case <-ctx.Done():
			return
		case <-m.asked:
			why = "load"
		case <-tick.C:
		}
		n := runtime.NumGoroutine()
		peak = max(peak, n)
		still := max(n-prev, prev-n) < trimStill
		prev = n
		if why == "burst" && (peak-n < trimFall || !still || time.Since(last) < trimEvery) {
			continue
		}
		start := time.Now()
		debug.FreeOSMemory()
		log.Debug("memory returned to the system", "after", why,
			"goroutines_peak", peak, "goroutines", n, "took_ms", time.Since(start).Milliseconds())
		last, peak = time.Now(), n
	}
}
