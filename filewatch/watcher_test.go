package filewatch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// hour is an interval no test waits for: what it sees, events made it see.
const hour = time.Hour

func TestWriteInPlace(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	write(t, file, "one")
	c := newCalls()
	newWatcher(t, Options{Interval: hour}).Watch([]string{file}, nil, c.onChange)
	write(t, file, "two")
	c.next(t, "a file rewritten in place")
}

func TestRenameOver(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.hcl")
	write(t, file, "one")
	c := newCalls()
	newWatcher(t, Options{Interval: hour}).Watch([]string{file}, nil, c.onChange)
	testfs.RenameOver(t, file, []byte("two"))
	c.next(t, "a file renamed over the old one")
}

// A chmod is a change: a file that others could write is refused, so one
// made safe again (or unsafe) must be looked at again.
func TestChmodIsAChange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ca.pem")
	write(t, file, "one")
	c := newCalls()
	newWatcher(t, Options{Interval: hour}).Watch([]string{file}, nil, c.onChange)
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	c.next(t, "a chmod")
}

// The kubelet never writes the files a tunnel names: it swaps ..data. Two
// swaps in a row show the watch follows the new timestamped directory too.
func TestKubernetesSwap(t *testing.T) {
	k := testfs.NewK8sDir(t, map[string][]byte{"tls.crt": []byte("a"), "tls.key": []byte("a")})
	c := newCalls()
	w := newWatcher(t, Options{Interval: hour})
	w.Watch([]string{k.Path("tls.crt"), k.Path("tls.key")}, nil, c.onChange)
	for _, v := range []string{"b", "c"} {
		k.Update(t, map[string][]byte{"tls.crt": []byte(v), "tls.key": []byte(v)})
		c.next(t, "swap "+v)
	}
	// The watch of the directory ..data led to follows it to the new one.
	want := sorted([]string{k.Dir, k.Current()})
	testwait.Until(t, wait, "the new timestamped directory watched", func() bool { return slices.Equal(w.Dirs(), want) })
}

// A symlink into another directory: a file rewritten in place there makes
// no event beside the link, so that directory is watched too.
func TestSymlinkIntoAnotherDirectory(t *testing.T) {
	target := filepath.Join(t.TempDir(), "cert.pem")
	link := filepath.Join(t.TempDir(), "cert.pem")
	write(t, target, "one")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	c := newCalls()
	w := newWatcher(t, Options{Interval: hour})
	w.Watch([]string{link}, nil, c.onChange)
	if got, want := w.Dirs(), []string{filepath.Dir(link), filepath.Dir(target)}; !slices.Equal(got, sorted(want)) {
		t.Errorf("Dirs() = %q, want %q", got, sorted(want))
	}
	write(t, target, "two")
	c.next(t, "the symlink's target rewritten")
}

// A file rewritten with what it had, renamed over with the same content,
// touched, or a file beside it written: nothing to report. The checks are
// run directly, as a tick or an overflow does, so that no wait is needed.
func TestSameContentIsNoChange(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	write(t, file, "same")
	c := newCalls()
	w := newWatcher(t, Options{NoEvents: true, Interval: hour})
	w.Watch([]string{file}, nil, c.onChange)

	write(t, file, "same")
	testfs.RenameOver(t, file, []byte("same"))
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "unrelated"), "x")
	w.checkAll()
	c.none(t, "the content is the same")

	write(t, file, "new")
	w.checkAll()
	c.next(t, "new content")
	w.checkAll()
	c.none(t, "a change is reported once")
}

// With no file events at all (NFS and the like), the periodic re-check
// alone finds a change.
func TestPeriodicRecheckWithoutEvents(t *testing.T) {
	k := testfs.NewK8sDir(t, map[string][]byte{"passtunnel.hcl": []byte("one")})
	c := newCalls()
	w := newWatcher(t, Options{NoEvents: true, Interval: 20 * time.Millisecond})
	if w.Events() {
		t.Fatal("file events are on; this test is about the re-check alone")
	}
	w.Watch([]string{k.Path("passtunnel.hcl")}, nil, c.onChange)
	k.Update(t, map[string][]byte{"passtunnel.hcl": []byte("two")})
	c.next(t, "the re-check to find the swap")
}

// Events lost to a queue overflow: everything is checked at once.
func TestOverflowChecksAtOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	write(t, file, "one")
	c := newCalls()
	w := newWatcher(t, Options{NoEvents: true, Interval: hour})
	w.Watch([]string{file}, nil, c.onChange)
	write(t, file, "two")
	w.watchError(fsnotify.ErrEventOverflow)
	c.next(t, "the check after an overflow")
}

// Digests taken before the caller read the files: a change in between
// left no event once Watch runs, and is reported all the same.
func TestKnownFromBeforeTheRead(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.hcl")
	write(t, file, "one")
	known := SumAll([]string{file})
	write(t, file, "two")
	c := newCalls()
	newWatcher(t, Options{Interval: hour}).Watch([]string{file}, known, c.onChange)
	c.next(t, "the change before Watch")
}

// A missing file is followed too: its appearing is a change.
func TestMissingFileAppears(t *testing.T) {
	file := filepath.Join(t.TempDir(), "later")
	c := newCalls()
	newWatcher(t, Options{Interval: hour}).Watch([]string{file}, nil, c.onChange)
	testfs.RenameOver(t, file, []byte("here"))
	c.next(t, "the file to appear")
}

func TestRetryCallsAgainUnchanged(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tls.crt")
	write(t, file, "one")
	c := newCalls()
	s := newWatcher(t, Options{Interval: hour}).Watch([]string{file}, nil, c.onChange)
	s.Retry()
	c.next(t, "the retry")
}

// Events that never stop (a log written beside the file every few ms)
// postpone a check by at most MaxDelay.
func TestMaxDelayBoundsABusyDirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tls.crt")
	write(t, file, "one")
	c := newCalls()
	newWatcher(t, Options{Debounce: 50 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Interval: hour}).
		Watch([]string{file}, nil, c.onChange)
	testfs.Churn(t, filepath.Join(dir, "noise.log"), 5*time.Millisecond)
	testfs.RenameOver(t, file, []byte("two"))
	// Without the bound, and with an hour between re-checks, this waits
	// in vain.
	c.next(t, "a check despite the noise")
}

// Sets share the watch of a directory; the last to stop removes it, and a
// stopped set is told nothing more.
func TestStopUnwatches(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write(t, a, "a")
	write(t, b, "b")
	c := newCalls()
	w := newWatcher(t, Options{NoEvents: true, Interval: hour})
	sa := w.Watch([]string{a}, nil, c.onChange)
	sb := w.Watch([]string{b, a, b}, nil, c.onChange)
	if got := sb.Paths(); !slices.Equal(got, []string{a, b}) {
		t.Errorf("Paths() = %q, want %q", got, []string{a, b})
	}
	if got := w.Dirs(); !slices.Equal(got, []string{dir}) {
		t.Fatalf("Dirs() = %q, want one watch of %q", got, dir)
	}
	sa.Stop()
	if got := w.Dirs(); !slices.Equal(got, []string{dir}) {
		t.Fatalf("Dirs() = %q after one of two sets stopped, want %q", got, dir)
	}
	sb.Stop()
	sb.Stop()
	if got := w.Dirs(); len(got) != 0 {
		t.Fatalf("Dirs() = %q after every set stopped, want none", got)
	}
	write(t, a, "changed")
	sa.Retry()
	w.checkAll()
	c.none(t, "every set is stopped")
}

// Close waits for an onChange in progress and calls none after it.
func TestCloseWaitsForOnChange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	write(t, file, "one")
	entered, release := make(chan struct{}), make(chan struct{})
	w, err := New(Options{Debounce: testDebounce, Interval: hour})
	if err != nil {
		t.Fatal(err)
	}
	var finished bool
	s := w.Watch([]string{file}, nil, func() {
		entered <- struct{}{}
		<-release
		finished = true
	})
	s.Retry()
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("onChange not called")
	}
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while onChange was running")
	default:
	}
	close(release)
	<-closed
	if !finished {
		t.Error("Close returned before onChange did")
	}
	s.Retry()
	w.checkAll()
	w.Close()
	if w.Watch([]string{file}, nil, func() { t.Error("onChange after Close") }) == nil {
		t.Error("Watch after Close returned nil")
	}
}

func TestSum(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write(t, a, "x")
	write(t, b, "x")
	if Sum(a) != Sum(b) {
		t.Error("same content, different digests")
	}
	write(t, b, "y")
	if Sum(a) == Sum(b) {
		t.Error("different content, same digest")
	}
	missing, unreadable := Sum(filepath.Join(dir, "missing")), Sum(dir) // a directory cannot be read as a file
	if missing == unreadable || missing == (Digest{}) {
		t.Error("a missing and an unreadable file must differ, and from the zero Digest")
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
