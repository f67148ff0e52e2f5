package daemon

import (
	"fmt"
	"log/slog"

	"github.com/passtunnel/passtunnel/filewatch"
)

// fileWatcher reports when any file the config depends on (the config file
// and every file() it read) no longer has the content last loaded. A nil
// fileWatcher watches nothing. Only the fleet's goroutine calls it.
type fileWatcher struct {
	w       *filewatch.Watcher
	set     *filewatch.Set // the files of the config last loaded
	changed chan struct{}  // capacity 1: changes that pile up make one reload
}

// newFileWatcher starts watching nothing yet. It fails when file events
// cannot be had: the config is then reloaded by SIGHUP only.
func newFileWatcher(log *slog.Logger) (*fileWatcher, error) {
	w, err := filewatch.New(filewatch.Options{Log: log})
	if err != nil {
		return nil, fmt.Errorf("watch config files: %w", err)
	}
	return &fileWatcher{w: w, changed: make(chan struct{}, 1)}, nil
}

// changes delivers a value after the watched files changed. A nil watcher's
// channel is nil, so selecting on it waits forever.
func (fw *fileWatcher) changes() <-chan struct{} {
	if fw == nil {
		return nil
	}
	return fw.changed
}

// paths lists the files watched now, sorted.
func (fw *fileWatcher) paths() []string {
	if fw == nil || fw.set == nil {
		return nil
	}
	return fw.set.Paths()
}

// track makes paths the watched set, with the content they had when they
// were loaded: known holds digests taken before the load, so that a file
// that changes while it is being loaded is seen as changed afterwards.
func (fw *fileWatcher) track(paths []string, known map[string]filewatch.Digest) {
	if fw == nil {
		return
	}
	old := fw.set
	fw.set = fw.w.Watch(paths, known, fw.signal)
	if old != nil {
		old.Stop() // after Watch: directories both use stay watched throughout
	}
}

// signal makes a reload pending, unless one already is: it will read this
// change too.
func (fw *fileWatcher) signal() {
	select {
	case fw.changed <- struct{}{}:
	default:
	}
}

// close stops watching and waits for the watch goroutine.
func (fw *fileWatcher) close() {
	if fw == nil {
		return
	}
	fw.w.Close()
}
