// Package testfs changes files the way the tools and systems that replace
// them in production do, so that tests of code that watches and reloads
// files see the same events. It is for tests only: its helpers take the
// test and stop it when they cannot do what it asked.
package testfs

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// RenameOver writes data the way editors and most tools do: a new file
// beside the old one, renamed over it, so that a watch of the old inode
// alone would miss it.
func RenameOver(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// K8sDir is a directory laid out as the kubelet mounts a Secret: the files
// live in a timestamped directory, ..data links to it, and each name links
// through ..data. Update swaps ..data atomically, as the kubelet does, then
// deletes the old directory, so the files a tunnel names are never written.
type K8sDir struct {
	// Dir is the mount point, where the names link through ..data.
	Dir string
	cur string
	n   int
}

// NewK8sDir mounts files in a new temporary directory.
func NewK8sDir(t testing.TB, files map[string][]byte) *K8sDir {
	t.Helper()
	k := &K8sDir{Dir: t.TempDir()}
	k.Update(t, files)
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), k.Path(name)); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// Path is where a reader finds the file name: the link through ..data.
func (k *K8sDir) Path(name string) string { return filepath.Join(k.Dir, name) }

// Current is the timestamped directory ..data links to now.
func (k *K8sDir) Current() string { return filepath.Join(k.Dir, k.cur) }

// Update swaps in a new timestamped directory holding files. Only the names
// given to NewK8sDir have links beside ..data; a name added later is found
// only through ..data.
func (k *K8sDir) Update(t testing.TB, files map[string][]byte) {
	t.Helper()
	k.n++
	ts := fmt.Sprintf("..2026_01_02_03_04_05.%09d", k.n)
	if err := os.Mkdir(filepath.Join(k.Dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(k.Dir, ts, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(k.Dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(k.Dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if k.cur != "" {
		if err := os.RemoveAll(filepath.Join(k.Dir, k.cur)); err != nil {
			t.Fatal(err)
		}
	}
	k.cur = ts
}

// Churn rewrites path every interval until the test ends, as a busy log
// beside a watched file does, so that the directory's events never stop.
// Errors are ignored: the churn only has to make events, and a goroutine
// may not stop the test.
func Churn(t testing.TB, path string, every time.Duration) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = os.WriteFile(path, []byte{byte(i)}, 0o600)
			}
		}
	})
	// Cleanups run last registered first, so a directory the test made
	// before calling Churn is removed only once the writes have stopped.
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// Main is the TestMain of a package whose tests write the files
// passtunnel reads: it runs them under StrictUmask.
func Main(m *testing.M) {
	StrictUmask()
	os.Exit(m.Run())
}

// SettlingDir is a temporary directory for a background writer that may
// still be finishing when the test ends (certmagic's ACME storage: its
// obtain goroutine writes a lock file a moment after it was cancelled).
// Its removal is retried for a few seconds instead of failing the test at
// the first "directory not empty".
func SettlingDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "passtunnel-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := os.RemoveAll(dir)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("remove %s: %v", dir, err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return dir
}
