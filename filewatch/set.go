package filewatch

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// Set is one group of files followed together, with the function told
// when any of them changes.
type Set struct {
	w        *Watcher
	onChange func()
	paths    []string // sorted, without duplicates; never changes

	checking sync.Mutex        // one check, and so one onChange, at a time
	sums     map[string]Digest // guarded by checking: what onChange was last called for

	// Guarded by w.mu.
	dirs    []string    // watched for this set now
	timer   *time.Timer // debounce; nil until the first event
	since   time.Time   // first event not checked yet; zero when none
	again   bool        // Retry asked for onChange whatever the content
	stopped bool
}

// Watch starts following paths. onChange is called, on a goroutine of the
// Watcher and never twice at once for one Set, after the content of any
// path differs from the one it was last called for, at first from known:
// the digests a caller took before reading the files, so that a change
// while it read them is reported. A path missing from known is read now.
// A path that cannot be read is followed too: its appearing is a change.
func (w *Watcher) Watch(paths []string, known map[string]Digest, onChange func()) *Set {
	s := &Set{w: w, onChange: onChange, paths: slices.Compact(slices.Sorted(slices.Values(paths)))}
	s.sums = make(map[string]Digest, len(s.paths))
	for _, p := range s.paths {
		d, ok := known[p]
		if !ok {
			d = Sum(p)
		}
		s.sums[p] = d
	}
	dirs := dirsOf(s.paths)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		s.stopped = true
		return s
	}
	w.sets[s] = struct{}{}
	w.setDirsLocked(s, dirs)
	// A change between known and now left no event for this set to see.
	w.scheduleLocked(s)
	return s
}

// Paths are the files of s, sorted.
func (s *Set) Paths() []string { return slices.Clone(s.paths) }

// Retry has onChange called once more a debounce from now, whether or not
// the files change meanwhile: for a caller that read them half-way through
// an update (a certificate written, its key not yet) and must look again.
func (s *Set) Retry() {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.stopped || s.w.closed {
		return
	}
	s.again = true
	s.w.scheduleLocked(s)
}

// Stop ends following s; directories no other set uses stop being watched.
// A check already running may still call onChange once.
func (s *Set) Stop() {
	w := s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	if s.timer != nil {
		s.timer.Stop()
	}
	delete(w.sets, s)
	w.setDirsLocked(s, nil)
}

// watches reports whether an event on name concerns s. w.mu is held.
func (s *Set) watches(name string) bool {
	return slices.ContainsFunc(s.dirs, func(d string) bool { return isIn(name, d) })
}

// scheduleLocked (re)starts s's debounce timer. Events keep postponing the
// check, but not past maxDelay when there is one: a directory that never
// goes quiet must not starve it.
func (w *Watcher) scheduleLocked(s *Set) {
	if w.closed || s.stopped {
		return
	}
	now := time.Now()
	if w.maxDelay > 0 && !s.since.IsZero() && now.Sub(s.since) >= w.maxDelay {
		return // the timer fires within a debounce anyway
	}
	if s.since.IsZero() {
		s.since = now
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(w.debounce, func() { w.run(s) })
		return
	}
	s.timer.Reset(w.debounce)
}

// run checks s unless it was stopped or the Watcher closed meanwhile.
func (w *Watcher) run(s *Set) {
	w.mu.Lock()
	if w.closed || s.stopped {
		w.mu.Unlock()
		return
	}
	s.since = time.Time{} // events from now on need a new check
	again := s.again
	s.again = false
	w.calls.Add(1) // under mu, before closed is set: Close waits for this check
	w.mu.Unlock()
	defer w.calls.Done()
	s.check(again)
}

// check reads every file of s and calls onChange if any differs from what
// it was last called for, or if again.
func (s *Set) check(again bool) {
	s.checking.Lock()
	defer s.checking.Unlock()
	sums := make(map[string]Digest, len(s.paths))
	for _, p := range s.paths {
		d, unknown := sum(p)
		if unknown { // out of descriptors, say: not a change
			d = s.sums[p]
		}
		sums[p] = d
	}
	changed := !maps.Equal(sums, s.sums)
	s.sums = sums
	// A swapped symlink may now lead to another directory.
	if !s.w.followDirs(s) {
		return
	}
	if changed || again {
		s.onChange()
	}
}
