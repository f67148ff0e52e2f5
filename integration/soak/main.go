// Command soak runs hostile and honest load against the built passtunnel
// binary for a while and says whether it lost, corrupted or leaked
// anything.
//
// One passtunnel process runs a client tunnel in front of a server tunnel
// (mTLS) in front of an in-process backend. Through them, -conns workers
// run transfers of random sizes (0 B to -max-size each way) in random
// close orders (the client closes first, the backend first, or both at
// once), each byte checked against a SHA-256 digest and against the
// payload it should be. Beside them run short-connection churn,
// slowloris connections and floods against the tunnels, and injected
// faults: backends that reset mid-stream and a target that refuses. Every
// -reload, both tunnels' certificates are rotated and the config reloaded
// with SIGHUP.
//
// It prints one table: connections, bytes checked, lost and corrupted,
// failures by kind (expected: the injected faults; unexpected: anything
// else), and the daemon's goroutines, descriptors and RSS at the start and
// the end, both read from its metrics while it is idle. It exits 1 when a
// byte was lost or corrupted, a failure happened outside the injected
// faults, or goroutines, descriptors or RSS did not come back to within
// 10% of the start (see docs/testing.md).
//
//	go run ./integration/soak [-duration 1m] [-conns 100] [-seed N] [-bin PATH] [-v]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	opt, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(setupExit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, opt, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// parseFlags reads the command line; errors go to errOut with the usage.
func parseFlags(args []string, errOut io.Writer) (options, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(errOut)
	var opt options
	fs.DurationVar(&opt.duration, "duration", time.Minute, "how long the load runs after the warm-up")
	fs.DurationVar(&opt.warmup, "warmup", 0, "load before the baseline is read (default: a tenth of -duration, 5s to 30s)")
	fs.DurationVar(&opt.reload, "reload", 3*time.Second, "how often certificates are rotated and SIGHUP sent")
	fs.IntVar(&opt.conns, "conns", 100, "concurrent integrity transfers (churn, slowloris and floods scale with it)")
	fs.Uint64Var(&opt.seed, "seed", 0, "seed of sizes, modes, faults and payloads (default: from the clock)")
	fs.StringVar(&opt.bin, "bin", "", "passtunnel binary to soak (default: built from this module)")
	fs.Int64Var(&opt.maxSize, "max-size", 4<<20, "largest request or reply of a transfer, in bytes")
	fs.BoolVar(&opt.verbose, "v", false, "print progress every 10s")
	fs.BoolVar(&opt.gcWait, "gc-wait", true, "before each idle reading, wait (up to 2.5 min) for the daemon's next garbage collection, "+
		"so that RSS can be judged; without it RSS is reported only")
	fs.BoolVar(&opt.keep, "keep", false, "keep the work directory (config, certificates, the daemon's log)")
	if err := fs.Parse(args); err != nil {
		return opt, err
	}
	if opt.duration <= 0 || opt.reload <= 0 || opt.conns < 1 || opt.maxSize < 0 || fs.NArg() > 0 {
		err := fmt.Errorf("-duration and -reload must be positive, -conns at least 1, -max-size not negative, and no arguments")
		fmt.Fprintln(errOut, "soak:", err)
		return opt, err
	}
	if opt.warmup <= 0 {
		opt.warmup = min(30*time.Second, max(5*time.Second, opt.duration/10))
	}
	if opt.seed == 0 {
		opt.seed = uint64(time.Now().UnixNano())
	}
	return opt, nil
}
