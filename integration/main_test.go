// Package integration builds the passtunnel binary once and runs it against
// real peers: openssl, stunnel, redis and in-test echo backends.
package integration

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/passtunnel/passtunnel/internal/testfs"
)

// binPath is the passtunnel binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	testfs.StrictUmask()
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
	stop, err := captureStdout()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: capture test output:", err)
		return 1
	}
	code := m.Run()
	testOutput := stop()
	if flag.Lookup("test.list").Value.String() != "" {
		return code // listing runs no test
	}
	// Every passphrase the tests used, in the output of every process they
	// ran or in their own logs and errors, fails the run.
	if !scanSecrets(testOutput, os.Stderr) && code == 0 {
		code = 1
	}
	return code
}
