// Package filewatch tells a caller when the content of any of a set of
// files has changed.
//
// It is built for files that are replaced rather than written in place:
// an editor renaming a new file over the old one, certbot or cert-manager
// rotating a certificate, the kubelet swapping the ..data symlink of a
// Secret or ConfigMap volume. So it watches directories rather than files,
// reads through symlinks, compares content by SHA-256 (an event that
// changed nothing is not a change), lets a burst of events settle before
// reading, and re-reads everything periodically for what events miss: a
// filesystem without events (NFS, some volume drivers), a watch lost with
// its directory, a kernel queue that overflowed.
package filewatch

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// DefaultDebounce lets a burst of events (an editor's write, chmod and
	// rename; the kubelet's several steps of a ..data swap) settle into one
	// read of the finished files.
	DefaultDebounce = 300 * time.Millisecond
	// DefaultInterval is how often files are compared even without an event.
	DefaultInterval = 30 * time.Second
)

// Options tune a Watcher; the zero value is usable.
type Options struct {
	// Debounce is the quiet time after the last event before a set's files
	// are read. Default DefaultDebounce.
	Debounce time.Duration
	// MaxDelay bounds how long events that never stop (a log written beside
	// a certificate) may postpone that read. Zero: no bound, the periodic
	// re-check is then what reads a directory that is never quiet.
	MaxDelay time.Duration
	// Interval is how often every set is compared without an event.
	// Default DefaultInterval.
	Interval time.Duration
	// NoEvents leaves the periodic re-check alone to find changes, as on a
	// filesystem without events.
	NoEvents bool
	// Log receives warnings: a directory that cannot be watched, a watcher
	// failure. Default: discard.
	Log *slog.Logger
}

// Watcher follows any number of sets of files with one fsnotify instance
// and one ticker. Each directory is watched once however many sets use it.
type Watcher struct {
	debounce, maxDelay, interval time.Duration
	log                          *slog.Logger
	fsw                          *fsnotify.Watcher // nil: events off
	stop                         chan struct{}
	done                         chan struct{}  // closed when loop returns
	calls                        sync.WaitGroup // checks running, for Close

	mu     sync.Mutex
	closed bool
	sets   map[*Set]struct{}
	dirs   map[string]int // watched directory -> sets using it
}

// New starts a Watcher. It fails only when file events cannot be had (no
// inotify instance left); a caller that can live on the periodic re-check
// alone may then try again with NoEvents.
func New(opts Options) (*Watcher, error) {
	w := &Watcher{
		debounce: orDefault(opts.Debounce, DefaultDebounce), maxDelay: opts.MaxDelay,
		interval: orDefault(opts.Interval, DefaultInterval), log: opts.Log,
		stop: make(chan struct{}), done: make(chan struct{}),
		sets: map[*Set]struct{}{}, dirs: map[string]int{},
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if !opts.NoEvents {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			return nil, fmt.Errorf("start file events: %w", err)
		}
		w.fsw = fsw
	}
	go w.loop()
	return w, nil
}

// orDefault is d, or def when d is not set.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Events reports whether file events are followed: false means the
// periodic re-check alone finds changes.
func (w *Watcher) Events() bool { return w.fsw != nil }

// Dirs lists the directories watched now, sorted.
func (w *Watcher) Dirs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.dirs))
}

// Close stops watching, and waits for a check in progress, so that no
// onChange runs once it returns. It must not be called from an onChange.
func (w *Watcher) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	for s := range w.sets {
		if s.timer != nil {
			s.timer.Stop()
		}
	}
	w.mu.Unlock()
	close(w.stop)
	if w.fsw != nil {
		_ = w.fsw.Close() // fails only when closed already
	}
	<-w.done
	w.calls.Wait()
}

// loop turns file events and ticks into checks until Close.
func (w *Watcher) loop() {
	defer close(w.done)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.fsw != nil {
		events, errs = w.fsw.Events, w.fsw.Errors
	}
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			w.touched(ev.Name)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			w.watchError(err)
		case <-tick.C:
			w.checkAll()
		}
	}
}

// touched schedules a check of every set that watches the directory of
// name, or name itself when the watched directory is what changed. Any
// name counts: a ..data swap changes none of the names a caller gave.
func (w *Watcher) touched(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for s := range w.sets {
		if s.watches(name) {
			w.scheduleLocked(s)
		}
	}
}

// watchError handles a watcher failure: after a queue overflow events were
// lost, so everything is checked at once rather than at the next tick.
func (w *Watcher) watchError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.checkAll()
		return
	}
	w.log.Warn("file watcher error; changes are still found by the periodic re-check",
		"interval", w.interval, "error", err)
}

// checkAll compares every set now: unchanged files cost a read and a hash.
func (w *Watcher) checkAll() {
	w.mu.Lock()
	sets := slices.Collect(maps.Keys(w.sets))
	w.mu.Unlock()
	for _, s := range sets {
		w.run(s)
	}
}
