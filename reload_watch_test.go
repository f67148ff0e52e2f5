package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func startWatcher(t *testing.T, paths ...string) *fileWatcher {
	t.Helper()
	w, err := newFileWatcher(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	w.track(paths, nil)
	return w
}

// renameOver replaces path the way editors do.
func renameOver(t *testing.T, path, content string) {
	t.Helper()
	writeFile(t, path+".tmp", content)
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherSeesRenameOver(t *testing.T) {
	dir := t.TempDir()
	cfg, secret := filepath.Join(dir, "c.hcl"), filepath.Join(t.TempDir(), "secret")
	writeFile(t, cfg, "one")
	writeFile(t, secret, "s1")
	w := startWatcher(t, cfg, secret)

	// Same content again, and a file nobody reads: no change to report.
	// check is what the debounce runs; calling it here needs no waiting.
	renameOver(t, cfg, "one")
	writeFile(t, filepath.Join(dir, "unrelated"), "x")
	w.check()
	select {
	case <-w.changes():
		t.Fatal("change reported for identical content")
	default:
	}

	// A file() dependency in another directory is watched too.
	renameOver(t, secret, "s2")
	select {
	case <-w.changes():
	case <-time.After(5 * time.Second):
		t.Fatal("no change reported for a replaced dependency")
	}
	if got := w.paths(); len(got) != 2 {
		t.Errorf("watched paths = %q, want both files", got)
	}
}

func TestNilWatcher(t *testing.T) {
	var w *fileWatcher
	w.track([]string{"x"}, nil)
	if w.changes() != nil || w.paths() != nil {
		t.Error("a nil watcher must watch nothing")
	}
	w.close()
}
