package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Settling: after the load stops, the daemon is sampled every
// settleEvery until its open connections are gone and neither goroutines
// nor descriptors fell over the last settleWindow samples, or until
// settleBound. With gcWait it must also have run a garbage collection
// since it went idle, and RSS must have stopped falling (the runtime
// hands freed memory back gradually after a collection), or gcBound has
// run out: the runtime forces a collection every 2 minutes at the latest.
const (
	settleEvery  = 500 * time.Millisecond
	settleWindow = 6
	settleBound  = 90 * time.Second
	gcBound      = 150 * time.Second
)

// resources is one reading of the daemon's footprint. Descriptors and
// RSS come from /proc: the daemon's sandbox keeps its metrics from
// reading its own /proc/self/stat, so process_resident_memory_bytes is
// missing there, and both readings come from one place.
type resources struct {
	goroutines, fds, rss float64
	active               float64 // open tunnel connections
	heapInuse            float64
	lastGC               float64          // Unix time of the daemon's latest garbage collection
	fdKinds              map[string]int64 // of an idle reading only
}

// readResources scrapes the daemon's metrics and reads its /proc entries.
func readResources(ctx context.Context, s *scraper, pid int) (resources, error) {
	// /proc first: the previous scrape's connection is closed by now,
	// while this one's may not be yet once the scrape returns.
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return resources{}, fmt.Errorf("descriptors of passtunnel: %w", err)
	}
	rss, err := rssBytes(pid)
	if err != nil {
		return resources{}, err
	}
	m, err := s.scrape(ctx)
	if err != nil {
		return resources{}, err
	}
	return resources{fds: float64(len(fds)), rss: rss,
		goroutines: m.sum("go_goroutines"),
		active:     m.sum("passtunnel_connections_active"),
		heapInuse:  m.sum("go_memstats_heap_inuse_bytes"),
		lastGC:     m.sum("go_memstats_last_gc_time_seconds"),
	}, nil
}

// rssBytes is VmRSS of process pid.
func rssBytes(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("RSS of passtunnel: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			if f := strings.Fields(rest); len(f) == 2 && f[1] == "kB" { // "1234 kB"
				kb, err := strconv.ParseFloat(f[0], 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// idleState says how far settling got.
type idleState struct {
	settled bool // no connection open, goroutines and descriptors steady
	gcSeen  bool // and a collection ran since the load, RSS steady after it
}

// settle waits, bounded, until the daemon is idle and steady after a
// load, and returns the reading of the last settleWindow samples (see
// floor). The collection gcWait waits for must come after the daemon
// went idle: one that ran while the last connections closed leaves their
// garbage in the heap, and so in RSS, until the next. trace, if not nil,
// gets a line every 10 s of that wait.
func settle(ctx context.Context, s *scraper, pid int, gcWait bool, trace io.Writer) (resources, idleState, error) {
	var window []resources
	var st idleState
	var idleSince, traced time.Time
	deadline := time.Now().Add(settleBound)
	for {
		last, err := readResources(ctx, s, pid)
		if err != nil {
			return last, st, err
		}
		if window = append(window, last); len(window) > settleWindow {
			window = window[1:]
		}
		now := time.Now()
		st.settled = len(window) == settleWindow && last.active == 0 && !falling(window)
		if !st.settled {
			idleSince = time.Time{}
		} else if idleSince.IsZero() {
			idleSince = now
		}
		st.gcSeen = st.settled && window[0].lastGC >= float64(idleSince.UnixNano())/1e9 && !rssFalling(window)
		if st.settled && (!gcWait || st.gcSeen || now.After(idleSince.Add(gcBound))) || !st.settled && now.After(deadline) {
			return floor(window), st, nil
		}
		if trace != nil && st.settled && now.Sub(traced) >= 10*time.Second {
			traced = now
			fmt.Fprintf(trace, "soak: idle for %v: RSS %s, heap in use %s, latest garbage collection %v ago\n",
				now.Sub(idleSince).Round(time.Second), mib(last.rss), mib(last.heapInuse),
				now.Sub(time.Unix(0, int64(last.lastGC*1e9))).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return last, st, ctx.Err()
		case <-time.After(settleEvery):
		}
	}
}

// floor is the window's last reading with goroutines, descriptors and
// RSS at their lowest in the window: the level the daemon comes back to
// between the brief goroutines and sockets of its timers and of the
// scrapes themselves.
func floor(window []resources) resources {
	r := window[len(window)-1]
	for _, w := range window {
		r.goroutines, r.fds, r.rss = min(r.goroutines, w.goroutines), min(r.fds, w.fds), min(r.rss, w.rss)
	}
	return r
}

// falling says whether goroutines or descriptors went down anywhere in
// the window: the daemon is still releasing what the load left.
func falling(window []resources) bool {
	for i := 1; i < len(window); i++ {
		if window[i].goroutines < window[i-1].goroutines || window[i].fds < window[i-1].fds {
			return true
		}
	}
	return false
}

// rssFalling says whether RSS fell by more than 1% over the window.
func rssFalling(window []resources) bool {
	return window[len(window)-1].rss < 0.99*window[0].rss
}

// change is the relative change from start to end, in percent.
func change(start, end float64) float64 {
	if start == 0 {
		return 0
	}
	return (end - start) / start * 100
}

// fdKinds counts the daemon's descriptors by what they are (socket,
// pipe, anon_inode:[eventpoll], a file's path), to say what a change in
// their number is made of.
func fdKinds(pid int) map[string]int64 {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	kinds := map[string]int64{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if i := strings.Index(target, ":["); i > 0 && !strings.HasPrefix(target, "anon_inode") {
			target = target[:i] // socket:[123] -> socket
		}
		kinds[target]++
	}
	return kinds
}

// fdDiff describes how two fdKinds readings differ, "" if they do not.
func fdDiff(before, after map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(mergeKeys(before, after)) {
		if d := after[k] - before[k]; d != 0 {
			parts = append(parts, fmt.Sprintf("%s %+d", k, d))
		}
	}
	return strings.Join(parts, ", ")
}

func mergeKeys(a, b map[string]int64) map[string]int64 {
	m := map[string]int64{}
	maps.Copy(m, a)
	maps.Copy(m, b)
	return m
}
