// Command bench measures passtunnel, stunnel, haproxy and go-plain (a
// plain Go TLS proxy, the control) side by side as the same TLS termination (ECDSA P-256, mTLS required, TLS 1.3) in front of
// in-harness backends, and prints one Markdown table of medians.
//
// -measure sidecar (in the default set) measures an idle passtunnel
// sidecar's memory for each identity source, after start and after a
// reload, in a table of its own.
//
// -measure transparent (root, ip and nft; not in the default set) measures
// a transparent client tunnel against an explicit one between two network
// namespaces, beside a plain Go forwarder in both modes as the control, in
// a table of its own.
//
//	go run ./integration/bench [-quick] [-runs N] [-only passtunnel,stunnel,haproxy,go-plain] [-measure throughput,handshakes,rtt,idle,pair,redis,sidecar,transparent] [-baseline BIN] [-keep]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if runHelper() {
		return
	}
	quick := flag.Bool("quick", false, "smaller transfers and counts (idle counts stay 2,000 and 8,000)")
	runs := flag.Int("runs", 3, "runs per proxy; the table shows medians")
	only := flag.String("only", "passtunnel,stunnel,haproxy,go-plain", "comma-separated proxies to measure")
	keep := flag.Bool("keep", false, "keep the work directory (configs and proxy logs)")
	measure := flag.String("measure", strings.Join(append(measurements, measureSidecar), ","), "comma-separated measurements to take; "+
		"\""+measureTransparent+"\" (needs root, ip and nft) is one more, not taken by default")
	baseline := flag.String("baseline", "", "another passtunnel `BIN`ary to measure as \"baseline\" beside this module's, "+
		"run for run (for before/after comparisons of a change)")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: -runs must be at least 1")
		os.Exit(2)
	}
	h, code := &harness{bins: map[string]string{}, size: fullSizes, verbose: true, baseline: *baseline}, 0
	if err := h.pick(*measure); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *quick {
		h.size = quickSizes
	}
	var err error
	if h.dir, err = os.MkdirTemp("", "passtunnel-bench-"); err != nil {
		fatal(err)
	}
	if err := os.Mkdir(filepath.Join(h.dir, "logs"), 0o700); err != nil {
		fatal(err)
	}
	cleanup := func() {
		killAll()
		h.netns.shutdown() // after the processes inside them
		if *keep {
			fmt.Fprintln(os.Stderr, "bench: work directory kept:", h.dir)
		} else {
			os.RemoveAll(h.dir)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted by", s)
		cleanup()
		os.Exit(130)
	}()
	kinds := strings.Split(*only, ",")
	if *baseline != "" {
		kinds = append(kinds, kindBaseline)
	}
	if err := h.main(kinds, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		code = 1
	}
	cleanup()
	os.Exit(code)
}

// runHelper runs the harness re-executed as one of its helpers (an echo
// backend, a probe, a forwarder) and says whether it was one.
func runHelper() bool {
	if len(os.Args) < 2 {
		return false
	}
	switch os.Args[1] {
	case echoServerFlag:
		runEchoServer(os.Args[2:])
	case probeFlag:
		runProbe(os.Args[2:])
	case forwardFlag:
		runForward(os.Args[2:])
	case goPlainFlag:
		runGoPlain(os.Args[2:])
	default:
		return false
	}
	return true
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func (h *harness) main(kinds []string, runs int) error {
	var err error
	if h.nofile, err = raiseNofile(); err != nil {
		return fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
	}
	if h.measuresProxies() {
		if err := h.compareProxies(kinds, runs); err != nil {
			return err
		}
	}
	if h.measure[measureTransparent] {
		if err := h.compareTransparent(runs); err != nil {
			return err
		}
	}
	if h.measure[measureSidecar] {
		return h.compareSidecar(runs)
	}
	return nil
}

// compareProxies measures every kind, run after run, and prints the table.
func (h *harness) compareProxies(kinds []string, runs int) error {
	for i := range kinds {
		kinds[i] = strings.TrimSpace(kinds[i])
	}
	missing, err := h.findBins(kinds)
	if err != nil {
		return err
	}
	if err := h.makeCerts(); err != nil {
		return err
	}
	if h.sink, err = startSink(); err != nil {
		return err
	}
	if h.echo, err = startEcho(); err != nil {
		return err
	}
	h.logf("open-files limit %d; sizes %+v", h.nofile, h.size)
	res := newResults(kinds)
	if h.measure[measureRedis] {
		if err := h.setUpRedis(res); err != nil {
			return err
		}
	}
	for k, why := range missing {
		res.note(k, why)
	}
	start := time.Now()
	var present []string
	for _, k := range kinds {
		if missing[k] == "" {
			present = append(present, k)
		}
	}
	for run := 1; run <= runs; run++ {
		// Every other run goes in reverse order, so that no proxy always
		// follows the same one (a warm cache, a busy neighbour).
		order := slices.Clone(present)
		if run%2 == 0 {
			slices.Reverse(order)
		}
		for _, k := range order {
			h.logf("run %d/%d: %s", run, runs, k)
			h.suite(k, res)
		}
		if h.measure["rtt"] {
			h.logf("run %d/%d: echo round trips, interleaved", run, runs)
			h.rttRound(present, run == 1, res)
		}
		if h.redis != nil {
			h.redisFloor(res)
		}
	}
	h.logf("done in %v", time.Since(start).Round(time.Second))
	res.print(os.Stdout, runs, h.size, h.versions(kinds, missing))
	return nil
}
