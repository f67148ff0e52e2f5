// Command bench measures passtunnel, stunnel and haproxy side by side as the
// same TLS termination (ECDSA P-256, mTLS required, TLS 1.3) in front of
// in-harness backends, and prints one Markdown table of medians.
//
//	go run ./integration/bench [-quick] [-runs N] [-only passtunnel,stunnel,haproxy] [-keep]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == echoServerFlag {
		runEchoServer()
		return
	}
	quick := flag.Bool("quick", false, "smaller transfers and counts (idle counts stay 2,000 and 8,000)")
	runs := flag.Int("runs", 3, "runs per proxy; the table shows medians")
	only := flag.String("only", "passtunnel,stunnel,haproxy", "comma-separated proxies to measure")
	keep := flag.Bool("keep", false, "keep the work directory (configs and proxy logs)")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: -runs must be at least 1")
		os.Exit(2)
	}
	h, code := &harness{bins: map[string]string{}, size: fullSizes, verbose: true}, 0
	if *quick {
		h.size = quickSizes
	}
	var err error
	if h.dir, err = os.MkdirTemp("", "passtunnel-bench-"); err != nil {
		fatal(err)
	}
	cleanup := func() {
		killAll()
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
	if err := h.main(strings.Split(*only, ","), *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		code = 1
	}
	cleanup()
	os.Exit(code)
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
	for k, why := range missing {
		res.note(k, why)
	}
	start := time.Now()
	for run := 1; run <= runs; run++ {
		for _, k := range kinds {
			if missing[k] == "" {
				h.logf("run %d/%d: %s", run, runs, k)
				h.suite(k, run == 1, res)
			}
		}
	}
	h.logf("done in %v", time.Since(start).Round(time.Second))
	res.print(os.Stdout, runs, h.size, h.versions(kinds, missing))
	return nil
}

// suite is one run of every measurement for kind, each on a fresh proxy.
func (h *harness) suite(kind string, first bool, res *results) {
	fail := func(what string, err error) { res.note(kind, fmt.Sprintf("%s: %v", what, err)) }
	withProxy := func(what, target string, f func(p *proxy) error) {
		h.logf("  %s %s", kind, what)
		p, err := h.startServer(kind, target)
		if err != nil {
			fail(what, err)
			return
		}
		defer p.stop()
		if err := f(p); err != nil {
			fail(what, err)
		}
	}
	s := h.size
	withProxy("1-stream throughput", h.sink.ln.Addr().String(), func(p *proxy) error {
		mbps, cpu, err := h.throughput(p, 1, s.single)
		res.add(kind, "tp1", mbps, err)
		res.add(kind, "cpu1", cpu, err)
		return err
	})
	withProxy(fmt.Sprintf("%d-stream throughput", s.multi), h.sink.ln.Addr().String(), func(p *proxy) error {
		mbps, cpu, err := h.throughput(p, s.multi, s.multiEach)
		res.add(kind, "tp8", mbps, err)
		res.add(kind, "cpu8", cpu, err)
		return err
	})
	withProxy("handshakes", h.echo.Addr().String(), func(p *proxy) error {
		rate, cpu, err := h.handshakes(p, s.hsCount, s.hsCon)
		res.add(kind, "hs", rate, err)
		res.add(kind, "hscpu", cpu, err)
		return err
	})
	withProxy("echo round trips", h.echo.Addr().String(), func(p *proxy) error {
		if first {
			if err := h.mustRefuse(p); err != nil {
				fail("mTLS / TLS 1.3 enforcement", err)
			}
		}
		p50, p99, err := h.rtt(p, s.rttWarm, s.rttN)
		res.add(kind, "p50", p50, err)
		res.add(kind, "p99", p99, err)
		return err
	})
	h.logf("  %s idle connections %v", kind, s.idle)
	mem, err := h.idleMemory(kind, s.idle)
	for i, n := range s.idle {
		if i < len(mem) {
			res.add(kind, fmt.Sprintf("mem%d", n), mem[i], nil)
		}
	}
	if err != nil {
		fail("idle connections", err)
	}
	filled := map[string]bool{}
	for _, v := range pairVariants(kind) {
		if v == variantPassphrase && filled["pairWith"] {
			continue // passtunnel's certificate files already resume
		}
		h.logf("  %s pair (%s)", kind, v)
		rate, pct, err := h.pairRate(kind, v, s.pairN, s.pairCon)
		if err != nil {
			fail("pair "+v, err)
			continue
		}
		col := "pairWithout"
		if pct >= 50 {
			col = "pairWith"
		}
		if filled[col] {
			res.note(kind, fmt.Sprintf("pair %s: %.0f%% resumed, like an earlier variant: not shown", v, pct))
			continue
		}
		filled[col] = true
		res.add(kind, col, rate, nil)
		res.add(kind, col+"Pct", pct, nil)
		res.variant(kind, col, v)
	}
}
