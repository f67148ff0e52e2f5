package daemon

import (
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/filewatch"
	"github.com/passtunnel/passtunnel/internal/testfs"
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

func waitChange(t *testing.T, w *fileWatcher, what string) {
	t.Helper()
	select {
	case <-w.changes():
	case <-time.After(5 * time.Second):
		t.Fatalf("no change reported for %s", what)
	}
}

// A file() dependency in another directory than the config is watched too.
func TestWatcherSeesRenameOver(t *testing.T) {
	cfg, secret := filepath.Join(t.TempDir(), "c.hcl"), filepath.Join(t.TempDir(), "secret")
	writeFile(t, cfg, "one")
	writeFile(t, secret, "s1")
	w := startWatcher(t, cfg, secret)
	if got, want := w.paths(), slices.Sorted(slices.Values([]string{cfg, secret})); !slices.Equal(got, want) {
		t.Errorf("watched paths = %q, want %q", got, want)
	}
	testfs.RenameOver(t, secret, []byte("s2"))
	waitChange(t, w, "a replaced dependency")
}

// An edit while the config was being loaded leaves no event once track
// runs; the digests taken before the load still make it a change.
func TestWatcherTrackSeesEditDuringLoad(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.hcl")
	writeFile(t, cfg, "one")
	w := startWatcher(t)
	before := filewatch.SumAll([]string{cfg})
	writeFile(t, cfg, "two") // the edit racing with the load
	w.track([]string{cfg}, before)
	waitChange(t, w, "an edit during the load")
	if got := w.paths(); !slices.Equal(got, []string{cfg}) {
		t.Errorf("watched paths = %q, want only %q", got, cfg)
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
