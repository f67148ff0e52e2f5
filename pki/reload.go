package pki

import (
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passtunnel/passtunnel/filewatch"
)

const (
	// DefaultReloadInterval is how often certificate, key and CA files are
	// re-read even without a file event: events do not exist on every
	// filesystem (NFS, some FUSE and container volume drivers).
	DefaultReloadInterval = 60 * time.Second
	// maxDebounce bounds how long events may keep postponing a check.
	maxDebounce = 2 * time.Second
)

// ReloadCounts counts the hot reloads of one tunnel's files by result. A
// failure is counted once per distinct bad content, not once per retry.
type ReloadCounts struct {
	OK, Failed uint64
}

// reloadable is one set of files hot reload keeps current: a certificate
// and its key, or a CA bundle.
type reloadable interface {
	// files are the paths as configured (symlinks unresolved): what the
	// file watcher follows.
	files() []string
	// check re-reads the files and swaps in their content if it changed and
	// is good. retry asks for another check after the debounce time: a
	// failure is only reported once it outlasts that time.
	check() (retry bool)
}

// entry is a reloadable shared by the endpoints that use it.
type entry struct {
	src  reloadable
	refs int
	set  *filewatch.Set // nil when hot reload is off or the Manager closed
}

// reloader keeps the file-based identities and trust of a Manager current.
// One file watcher serves every tunnel; each directory is watched once
// however many files and tunnels it holds.
type reloader struct {
	log      *slog.Logger
	interval time.Duration // < 0: hot reload off
	debounce time.Duration
	events   bool // false: periodic re-check only (tests prove it alone works)

	mu      sync.Mutex
	closed  bool
	w       *filewatch.Watcher        // nil until a source is shared
	entries map[string]*entry         // by the key share was given
	stats   map[string]*reloadCounter // by tunnel; never deleted, so counters only grow
	// keyWarned holds the key files warnKeyMode has warned about.
	keyWarned onceSet
}

type reloadCounter struct{ ok, failed atomic.Uint64 }

func newReloader(log *slog.Logger, interval time.Duration) *reloader {
	if interval == 0 {
		interval = DefaultReloadInterval
	}
	return &reloader{
		log: log, interval: interval, debounce: filewatch.DefaultDebounce, events: true,
		entries: map[string]*entry{},
		stats:   map[string]*reloadCounter{},
	}
}

func (r *reloader) off() bool { return r.interval < 0 }

// counter is the reload counter of tunnel.
func (r *reloader) counter(tunnel string) *reloadCounter {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.stats[tunnel]
	if !ok {
		c = &reloadCounter{}
		r.stats[tunnel] = c
	}
	return c
}

// share registers fresh, just loaded, under key; known holds the digests
// of its files taken before the load. When an endpoint built earlier (the
// same tunnel before a config reload) already follows the same files, that
// reloadable is returned instead and told to catch up, so one set of files
// is read, logged and counted once. The caller holds a reference to key
// until it calls release with it.
func (r *reloader) share(key string, fresh reloadable, known map[string]filewatch.Digest) reloadable {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[key]; ok {
		e.refs++
		if e.set != nil {
			e.set.Retry()
		}
		return e.src
	}
	e := &entry{src: fresh, refs: 1}
	r.entries[key] = e
	if w := r.watcherLocked(); w != nil {
		e.set = w.Watch(fresh.files(), known, func() { r.changed(e) })
	}
	return fresh
}

// watcherLocked starts the file watcher on first use, so a Manager that
// only serves passphrase tunnels (or only runs `check`) watches nothing.
func (r *reloader) watcherLocked() *filewatch.Watcher {
	if r.w != nil || r.closed || r.off() {
		return r.w
	}
	opts := filewatch.Options{Debounce: r.debounce, MaxDelay: maxDebounce, Interval: r.interval,
		NoEvents: !r.events, Log: r.log}
	w, err := filewatch.New(opts)
	if err != nil {
		r.log.Warn("cannot watch certificate files; relying on the periodic re-check",
			"interval", r.interval, "error", err)
		opts.NoEvents = true
		w, _ = filewatch.New(opts) // only file events can fail to start
	}
	r.w = w
	return w
}

// changed re-reads e's files, and again a debounce later when what it read
// was half-way through a rotation: a failure is only reported once it
// outlasts that time.
func (r *reloader) changed(e *entry) {
	if !e.src.check() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e.set.Retry()
}

// release drops one reference to each of keys; files nobody follows any
// more stop being watched.
func (r *reloader) release(keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, key := range keys {
		e := r.entries[key]
		if e.refs--; e.refs > 0 {
			continue
		}
		delete(r.entries, key)
		if e.set != nil {
			e.set.Stop()
		}
		stopSource(e.src)
	}
}

// stopSource ends the background work of a source that has some (the
// OCSP stapler of a pair).
func stopSource(src reloadable) {
	if s, ok := src.(interface{ stop() }); ok {
		s.stop()
	}
}

// close stops watching and waits for a check that is running.
func (r *reloader) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	w := r.w
	for _, e := range r.entries {
		stopSource(e.src)
	}
	r.mu.Unlock()
	if w != nil {
		w.Close() // without mu: the check it waits for may take it
	}
}

func (r *reloader) snapshotStats() map[string]ReloadCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]ReloadCounts, len(r.stats))
	for tunnel, c := range maps.All(r.stats) {
		out[tunnel] = ReloadCounts{OK: c.ok.Load(), Failed: c.failed.Load()}
	}
	return out
}
