package config

import (
	"path/filepath"
	"reflect"
	"testing"
)

// Config.Files lists every file() the config read, once each, whether the
// call sits in a secret or in a plain string, so that a reload can watch them.
func TestFilesListsEveryFileRead(t *testing.T) {
	dir := secretDir(t)
	write(t, filepath.Join(dir, "old"), "an older passphrase\n")
	write(t, filepath.Join(dir, "cluster"), "blue\n")
	src := tunnelWith(`  passphrase = file("p")
  previous_passphrases = [file("old"), file("p")]
  cluster = file("cluster")`)
	c, errs := parse([]byte(src), filepath.Join(dir, "c.hcl"))
	if c == nil {
		t.Fatal(errs)
	}
	want := []string{filepath.Join(dir, "p"), filepath.Join(dir, "old"), filepath.Join(dir, "cluster")}
	if !reflect.DeepEqual(c.Files, want) {
		t.Errorf("Files = %q, want %q", c.Files, want)
	}
}

// A file() that fails is still a file the config depends on.
func TestFilesListsMissingFile(t *testing.T) {
	dir := t.TempDir()
	c, _ := parse([]byte(tunnelWith(`  passphrase = file("/nonexistent/p")`)), filepath.Join(dir, "c.hcl"))
	if c == nil || !reflect.DeepEqual(c.Files, []string{"/nonexistent/p"}) {
		t.Errorf("Files = %v, want the missing file", c)
	}
}
