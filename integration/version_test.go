package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// binaryVersion runs `bin version` and returns the version its first line
// names ("passtunnel VERSION"), the line scripts and build_info rely on.
func binaryVersion(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	v, ok := strings.CutPrefix(first, "passtunnel ")
	if !ok || v == "" || strings.Contains(v, " ") {
		t.Fatalf("%s version: first line %q, want \"passtunnel VERSION\"", bin, first)
	}
	return v
}
