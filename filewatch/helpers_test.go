package filewatch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// wait bounds every wait for a change; one takes a debounce (testDebounce)
// or an interval, far below it.
const (
	wait         = 10 * time.Second
	testDebounce = 20 * time.Millisecond
)

// newWatcher is a Watcher with a short debounce, closed when the test ends.
func newWatcher(t *testing.T, opts Options) *Watcher {
	t.Helper()
	if opts.Debounce == 0 {
		opts.Debounce = testDebounce
	}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

// calls counts onChange calls and lets a test wait for the next one.
type calls struct{ ch chan struct{} }

func newCalls() *calls { return &calls{ch: make(chan struct{}, 100)} }

func (c *calls) onChange() { c.ch <- struct{}{} }

// next waits for one more call.
func (c *calls) next(t *testing.T, what string) {
	t.Helper()
	select {
	case <-c.ch:
	case <-time.After(wait):
		t.Fatalf("gave up after %v waiting for: %s", wait, what)
	}
}

// none asserts that no call is pending.
func (c *calls) none(t *testing.T, why string) {
	t.Helper()
	select {
	case <-c.ch:
		t.Fatalf("onChange called: %s", why)
	default:
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// renameOver replaces path the way editors do.
func renameOver(t *testing.T, path, content string) {
	t.Helper()
	write(t, path+".tmp~", content)
	if err := os.Rename(path+".tmp~", path); err != nil {
		t.Fatal(err)
	}
}

// k8sDir is a directory laid out as the kubelet mounts a Secret: the files
// live in a timestamped directory, ..data links to it, and each name links
// through ..data. update swaps ..data atomically, as the kubelet does, then
// deletes the old directory.
type k8sDir struct {
	dir, cur string
	n        int
}

func newK8sDir(t *testing.T, files map[string]string) *k8sDir {
	t.Helper()
	k := &k8sDir{dir: t.TempDir()}
	k.update(t, files)
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), k.path(name)); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func (k *k8sDir) path(name string) string { return filepath.Join(k.dir, name) }

func (k *k8sDir) update(t *testing.T, files map[string]string) {
	t.Helper()
	k.n++
	ts := fmt.Sprintf("..2026_01_02_03_04_05.%09d", k.n)
	if err := os.Mkdir(filepath.Join(k.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		write(t, filepath.Join(k.dir, ts, name), data)
	}
	tmp := filepath.Join(k.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if k.cur != "" {
		if err := os.RemoveAll(filepath.Join(k.dir, k.cur)); err != nil {
			t.Fatal(err)
		}
	}
	k.cur = ts
}
