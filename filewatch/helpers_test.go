package filewatch

import (
	"os"
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
