package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// envBounds finds the block /proc/self/environ shows.
func TestEnvBounds(t *testing.T) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	start, end, err := envBounds(stat)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	got := make([]byte, end-start)
	if _, err := mem.ReadAt(got, start); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the block at [%d, %d) is not /proc/self/environ", start, end)
	}
	if _, _, err := envBounds([]byte("1 (a) b) S 1 2")); err == nil {
		t.Error("a short stat line parsed")
	}
}

// scrub overwrites every value of the variable, and nothing else; a file
// stands in for the address space.
func TestScrubInitialEnv(t *testing.T) {
	const offset = 100
	block := []byte("A=1\x00PT_SECRET=hunter2\x00PT_SECRET_2=keep\x00PT_SECRET=again\x00B=2\x00")
	path := filepath.Join(t.TempDir(), "mem")
	if err := os.WriteFile(path, append(make([]byte, offset), block...), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := &initialEnv{mem: f, start: offset, end: offset + int64(len(block))}
	e.scrub("PT_SECRET")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("A=1\x00PT_SECRET=\x00\x00\x00\x00\x00\x00\x00\x00PT_SECRET_2=keep\x00PT_SECRET=\x00\x00\x00\x00\x00\x00B=2\x00")
	if !bytes.Equal(got[offset:], want) {
		t.Errorf("block after scrub = %q, want %q", got[offset:], want)
	}
}
