package filewatch

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Out of descriptors, a re-check cannot read the file: that is no change
// (it once caused a config reload, refused, and an ERROR). Once
// descriptors are back, a real change is still found.
func TestOutOfDescriptorsIsNoChange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "passtunnel.hcl")
	write(t, file, "one")
	c := newCalls()
	w := newWatcher(t, Options{NoEvents: true, Interval: hour})
	w.Watch([]string{file}, nil, c.onChange)

	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = 64
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var held []*os.File
	release := func() {
		for _, f := range held {
			f.Close()
		}
		held = nil
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	defer release()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break // EMFILE: every descriptor taken
		}
		held = append(held, f)
	}
	if _, err := os.ReadFile(file); err == nil {
		t.Fatal("the file can still be read: descriptors are not exhausted")
	}
	w.checkAll()
	c.none(t, "out of descriptors")
	release()

	w.checkAll()
	c.none(t, "descriptors back, the same content")
	write(t, file, "two")
	w.checkAll()
	c.next(t, "a real change")
}
