package main

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// reloadDebounce lets a burst of events (an editor's write, chmod and
	// rename; Kubernetes' several steps of a ..data swap) settle into one
	// reload of the finished files.
	reloadDebounce = 300 * time.Millisecond
	// recheckInterval is how often the files are compared even without an
	// event: a watch can be lost (its directory replaced) or an event
	// dropped when the kernel queue overflows.
	recheckInterval = 30 * time.Second
)

// digest is the SHA-256 of a file's content; the zero value means the file
// could not be read.
type digest [sha256.Size]byte

func digestOf(path string) digest {
	b, err := os.ReadFile(path) // follows symlinks, as config.Load does
	if err != nil {
		return digest{}
	}
	return sha256.Sum256(b)
}

// fileWatcher reports when any file the config depends on (the config file
// and every file() it read) no longer has the content last loaded. It
// watches their directories rather than the files: an editor that renames a
// new file over the old one, or Kubernetes swapping a ..data symlink, never
// writes to the file that a file watch would follow.
type fileWatcher struct {
	log     *slog.Logger
	w       *fsnotify.Watcher
	changed chan struct{} // capacity 1: changes that pile up make one reload
	stop    chan struct{}
	done    chan struct{}

	mu    sync.Mutex
	files map[string]digest // what the running config was loaded from
	dirs  map[string]bool
}

func newFileWatcher(log *slog.Logger) (*fileWatcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch config files: %w", err)
	}
	fw := &fileWatcher{log: log, w: w, changed: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), files: map[string]digest{}, dirs: map[string]bool{}}
	go fw.run()
	return fw, nil
}

// changes delivers a value after the watched files changed. A nil watcher's
// channel is nil, so selecting on it waits forever.
func (fw *fileWatcher) changes() <-chan struct{} {
	if fw == nil {
		return nil
	}
	return fw.changed
}

// paths lists the files watched now.
func (fw *fileWatcher) paths() []string {
	if fw == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(fw.loaded()))
}

// loaded is a copy of each watched file's digest as last loaded.
func (fw *fileWatcher) loaded() map[string]digest {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return maps.Clone(fw.files)
}

// track makes paths the watched set, with the content they had when they
// were loaded: known holds digests taken before the load, so that a file
// that changes while it is being loaded is seen as changed afterwards.
func (fw *fileWatcher) track(paths []string, known map[string]digest) {
	if fw == nil {
		return
	}
	files := make(map[string]digest, len(paths))
	dirs := map[string]bool{}
	for _, p := range paths {
		d, ok := known[p]
		if !ok {
			d = digestOf(p)
		}
		files[p] = d
		for _, dir := range watchDirs(p) {
			dirs[dir] = true
		}
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.files = files
	for dir := range fw.dirs {
		if !dirs[dir] {
			_ = fw.w.Remove(dir) // fails when the directory is gone: nothing to undo
		}
	}
	for dir := range dirs {
		if err := fw.w.Add(dir); err != nil {
			fw.log.Warn("cannot watch a config directory; changes there need a SIGHUP",
				"dir", dir, "error", err)
		}
	}
	fw.dirs = dirs
}

// watchDirs are the directories whose changes can change what path reads:
// its own, and the one its symlinks lead to.
func watchDirs(path string) []string {
	dirs := []string{filepath.Dir(path)}
	if real, err := filepath.EvalSymlinks(path); err == nil && filepath.Dir(real) != dirs[0] {
		dirs = append(dirs, filepath.Dir(real))
	}
	return dirs
}

// run turns events into at most one pending change, after each burst of
// events has been quiet for reloadDebounce.
func (fw *fileWatcher) run() {
	defer close(fw.done)
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	recheck := time.NewTicker(recheckInterval)
	defer recheck.Stop()
	for {
		select {
		case <-fw.stop:
			return
		case _, ok := <-fw.w.Events:
			if !ok {
				return
			}
			debounce.Reset(reloadDebounce)
		case err, ok := <-fw.w.Errors:
			if !ok {
				return
			}
			fw.log.Warn("config file watch error; the periodic re-check still runs", "error", err)
		case <-debounce.C:
			fw.check()
		case <-recheck.C:
			fw.check()
		}
	}
}

// check signals a change when any watched file's content differs from the
// one last loaded.
func (fw *fileWatcher) check() {
	for p, want := range fw.loaded() {
		if digestOf(p) != want {
			select {
			case fw.changed <- struct{}{}:
			default: // a reload is already pending; it will read this too
			}
			return
		}
	}
}

// close stops watching and waits for the watch goroutine.
func (fw *fileWatcher) close() {
	if fw == nil {
		return
	}
	close(fw.stop)
	_ = fw.w.Close()
	<-fw.done
}
