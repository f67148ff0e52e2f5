package proxy

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestMain fails the run if goroutines outlive the tests: every tunnel,
// backend and pump started by a test must have been cleaned up.
//
// With PASSTUNNEL_BENCH_CHILD set, the test binary is instead the child
// tunnel of a benchmark (see startBenchChild) and runs no test.
func TestMain(m *testing.M) {
	if dir := os.Getenv("PASSTUNNEL_BENCH_CHILD"); dir != "" {
		os.Exit(runBenchChild(dir))
	}
	base := runtime.NumGoroutine()
	code := m.Run()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		// go test -fuzz keeps a signal watcher of its own running: the
		// check would count it. Fuzz targets start no goroutines.
		os.Exit(code)
	}
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); code == 0 && n > base {
		buf := make([]byte, 1<<20)
		fmt.Fprintf(os.Stderr, "%d goroutines leaked:\n%s\n", n-base, buf[:runtime.Stack(buf, true)])
		code = 1
	}
	os.Exit(code)
}
