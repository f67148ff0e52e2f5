package pki

import (
	"crypto/tls"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// DefaultReloadInterval is how often certificate, key and CA files are
	// re-read even without a file event: events do not exist on every
	// filesystem (NFS, some FUSE and container volume drivers).
	DefaultReloadInterval = 60 * time.Second
	// defaultDebounce is the quiet time after the last event before files
	// are read: a rotation writes several files and symlinks in a burst.
	defaultDebounce = 300 * time.Millisecond
	// maxDebounce bounds how long events may keep postponing a check.
	maxDebounce = 2 * time.Second
)

// ReloadCounts counts the hot reloads of one tunnel's files by result. A
// failure is counted once per distinct bad content, not once per retry.
type ReloadCounts struct {
	OK, Failed uint64
}

// source is one set of files hot reload keeps current: a certificate and
// its key, or a CA bundle.
type source interface {
	// files are the paths as configured (symlinks unresolved): their parent
	// directories are what gets watched.
	files() []string
	// check re-reads the files and swaps in their content if it changed and
	// is good. retry asks for another check after the debounce time: a
	// failure is only reported once it outlasts that time.
	check() (retry bool)
}

// entry is a source shared by the configs that use it.
type entry struct {
	src   source
	refs  int
	timer *time.Timer // debounce; nil until the first event
	since time.Time   // first event not yet checked; zero when none
}

// reloader keeps the file-based identities and trust of a Manager current.
// One fsnotify watcher and one ticker serve every tunnel; each directory is
// watched once however many files and tunnels it holds.
type reloader struct {
	log      *slog.Logger
	interval time.Duration // < 0: hot reload off
	debounce time.Duration
	events   bool // false: periodic re-check only (tests prove it alone works)

	mu      sync.Mutex
	started bool
	closed  bool
	fsw     *fsnotify.Watcher // nil when events are off or unavailable
	stop    chan struct{}
	wg      sync.WaitGroup
	dirs    map[string]int            // watched directory -> entries using it
	entries map[string]*entry         // by sourceKey
	byCfg   map[*tls.Config][]string  // the entries each config uses, for Release
	stats   map[string]*reloadCounter // by tunnel; never deleted, so counters only grow
}

type reloadCounter struct{ ok, failed atomic.Uint64 }

func newReloader(log *slog.Logger, interval time.Duration) *reloader {
	if interval == 0 {
		interval = DefaultReloadInterval
	}
	return &reloader{
		log: log, interval: interval, debounce: defaultDebounce, events: true,
		stop:    make(chan struct{}),
		dirs:    map[string]int{},
		entries: map[string]*entry{},
		byCfg:   map[*tls.Config][]string{},
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

// share registers fresh, just loaded for cfg, under key. When a config
// built earlier (the same tunnel before a config reload) already follows
// the same files, that source is returned instead and told to catch up, so
// one set of files is read, logged and counted once.
func (r *reloader) share(cfg *tls.Config, key string, fresh source) source {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startLocked()
	r.byCfg[cfg] = append(r.byCfg[cfg], key)
	if e, ok := r.entries[key]; ok {
		e.refs++
		r.scheduleLocked(e)
		return e.src
	}
	r.entries[key] = &entry{src: fresh, refs: 1}
	for _, f := range fresh.files() {
		r.watchLocked(watchDir(f))
	}
	return fresh
}

// release drops cfg's references; sources nobody uses any more stop being
// watched.
func (r *reloader) release(cfg *tls.Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, key := range r.byCfg[cfg] {
		e := r.entries[key]
		if e.refs--; e.refs > 0 {
			continue
		}
		delete(r.entries, key)
		if e.timer != nil {
			e.timer.Stop()
		}
		for _, f := range e.src.files() {
			r.unwatchLocked(watchDir(f))
		}
	}
	delete(r.byCfg, cfg)
}

// scheduleLocked (re)starts e's debounce timer. Events keep postponing
// the check, but not past maxDebounce: a directory that never goes quiet
// (a busy /etc, a log written beside the certificate) must not starve it.
func (r *reloader) scheduleLocked(e *entry) {
	if r.closed || r.off() {
		return
	}
	now := time.Now()
	if !e.since.IsZero() && now.Sub(e.since) >= maxDebounce {
		return // a check is due within a debounce anyway
	}
	if e.since.IsZero() {
		e.since = now
	}
	if e.timer == nil {
		e.timer = time.AfterFunc(r.debounce, func() { r.run(e) })
		return
	}
	e.timer.Reset(r.debounce)
}

// run checks e unless it was released or the reloader closed meanwhile.
func (r *reloader) run(e *entry) {
	r.mu.Lock()
	if r.closed || e.refs == 0 {
		r.mu.Unlock()
		return
	}
	e.since = time.Time{} // events from now on need a new check
	r.wg.Add(1)           // under mu, before closed is set: Close waits for this check
	r.mu.Unlock()
	retry := e.src.check()
	r.wg.Done()
	if retry {
		r.mu.Lock()
		if e.refs > 0 {
			r.scheduleLocked(e)
		}
		r.mu.Unlock()
	}
}

// checkAll is the periodic re-check: unchanged files cost a read and a hash.
func (r *reloader) checkAll() {
	r.mu.Lock()
	list := make([]*entry, 0, len(r.entries))
	for _, e := range r.entries {
		list = append(list, e)
	}
	r.mu.Unlock()
	for _, e := range list {
		r.run(e)
	}
}

// close stops the watcher, the ticker and pending checks, and waits for a
// check that is running.
func (r *reloader) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	for _, e := range r.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
	started, fsw := r.started, r.fsw
	r.mu.Unlock()
	if started {
		close(r.stop)
		if fsw != nil {
			_ = fsw.Close() // only fails when closed already
		}
	}
	r.wg.Wait()
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
