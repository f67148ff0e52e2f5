// Package integration builds the passtunnel binary once and runs it against
// real peers: openssl, stunnel, redis and in-test echo backends.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binPath is the passtunnel binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "passtunnel-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: the go tool is needed to build the binary:", err)
		return 1
	}
	binPath = filepath.Join(dir, "passtunnel")
	build := exec.Command(goTool, "build", "-o", binPath, "github.com/passtunnel/passtunnel")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build failed: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
