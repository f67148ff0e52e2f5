package pki

import (
	"errors"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDir is the directory watched for path: its parent as configured,
// not the target of a symlink. A Kubernetes Secret volume replaces files by
// swapping the `..data` symlink in that directory, and an editor renames a
// new file over the old one there; a watch on the file itself would stay
// on the old inode and miss both. Files whose symlink points into another
// directory are still caught by the periodic re-check.
func watchDir(path string) string {
	return filepath.Dir(filepath.Clean(path))
}

// startLocked starts the event loop on first use, so a Manager that only
// serves passphrase tunnels (or only runs `check`) watches nothing.
func (r *reloader) startLocked() {
	if r.started || r.closed || r.off() {
		return
	}
	r.started = true
	if r.events {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			r.log.Warn("cannot watch certificate files; relying on the periodic re-check",
				"interval", r.interval, "error", err)
		} else {
			r.fsw = w
		}
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if r.fsw != nil {
		events, errs = r.fsw.Events, r.fsw.Errors
	}
	r.wg.Add(1)
	go r.loop(events, errs)
}

// watchLocked adds one user of dir, and the watch for its first.
func (r *reloader) watchLocked(dir string) {
	r.dirs[dir]++
	if r.dirs[dir] > 1 || r.fsw == nil {
		return
	}
	if err := r.fsw.Add(dir); err != nil {
		r.log.Warn("cannot watch directory; changes there are found by the periodic re-check",
			"dir", dir, "interval", r.interval, "error", err)
	}
}

// unwatchLocked drops one user of dir, and the watch with its last.
func (r *reloader) unwatchLocked(dir string) {
	if r.dirs[dir]--; r.dirs[dir] > 0 {
		return
	}
	delete(r.dirs, dir)
	if r.fsw != nil {
		// The directory may be gone already, which removed the watch too.
		_ = r.fsw.Remove(dir)
	}
}

// loop turns file events and ticks into checks until close.
func (r *reloader) loop(events <-chan fsnotify.Event, errs <-chan error) {
	defer r.wg.Done()
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			r.touched(ev.Name)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			r.watchError(err)
		case <-tick.C:
			r.checkAll()
		}
	}
}

// touched debounces a check of every source with a file in the directory
// of name, or in name itself when the watched directory is what changed.
// Any name counts: a `..data` swap changes none of the configured names.
func (r *reloader) touched(name string) {
	dirs := []string{filepath.Dir(name), filepath.Clean(name)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		for _, f := range e.src.files() {
			if slices.Contains(dirs, watchDir(f)) {
				r.scheduleLocked(e)
				break
			}
		}
	}
}

// watchError handles a watcher failure: after a queue overflow events were
// lost, so everything is checked at once rather than at the next tick.
func (r *reloader) watchError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		r.checkAll()
		return
	}
	r.log.Warn("file watcher error; changes are still found by the periodic re-check",
		"interval", r.interval, "error", err)
}
