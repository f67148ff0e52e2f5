package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// Exit codes: findingsExit when the soak found a problem, setupExit when
// it could not run at all, interruptedExit on SIGINT or SIGTERM.
const (
	findingsExit    = 1
	setupExit       = 2
	interruptedExit = 130
)

// run is the whole soak: set up, warm up, take the baseline, load,
// settle, compare, print the table. It returns the exit code.
func run(ctx context.Context, opt options, out, progress io.Writer) int {
	s, err := setup(ctx, opt, progress)
	if s != nil {
		defer s.close()
	}
	if err != nil {
		return abort(ctx, progress, err, setupExit)
	}
	defer context.AfterFunc(ctx, func() {
		s.tally.silence()
		s.daemon.kill()
	})()
	res, err := s.measure(ctx)
	if err != nil {
		return abort(ctx, progress, err, findingsExit)
	}
	res.print(out)
	if !res.pass() {
		return findingsExit
	}
	return 0
}

// abort reports why the run could not finish.
func abort(ctx context.Context, progress io.Writer, err error, code int) int {
	if ctx.Err() != nil {
		fmt.Fprintln(progress, "soak: interrupted")
		return interruptedExit
	}
	fmt.Fprintln(progress, "soak:", err)
	return code
}

// measure runs the warm-up, takes the baseline once the daemon is idle
// again, runs the load for the duration and takes the final reading the
// same way, so that both are of an idle daemon that has seen the same
// kind of load.
func (s *soak) measure(ctx context.Context) (*result, error) {
	l := &load{opt: s.opt, seed: s.opt.seed, addrs: s.addrs, tally: s.tally, reports: s.reports}
	s.reloader = &reloader{daemon: s.daemon, cfg: s.cfg, cfgPath: s.cfgPath, ids: s.ids, load: l, every: s.opt.reload}
	s.logf("warm-up: %v", s.opt.warmup)
	if err := s.loadFor(ctx, l, s.opt.warmup); err != nil {
		return nil, err
	}
	res := &result{opt: s.opt, version: s.version(ctx)}
	var err error
	if res.start, res.startState, err = s.idleReading(ctx, "baseline"); err != nil {
		return nil, err
	}
	s.logf("load: %v, %d concurrent transfers, reload every %v", s.opt.duration, s.opt.conns, s.opt.reload)
	began := time.Now()
	if err := s.loadFor(ctx, l, s.opt.duration); err != nil {
		return nil, err
	}
	res.took = time.Since(began)
	if res.end, res.endState, err = s.idleReading(ctx, "final"); err != nil {
		return nil, err
	}
	if d := fdDiff(res.start.fdKinds, res.end.fdKinds); d != "" && res.end.fds != res.start.fds {
		s.logf("descriptors, final against baseline: %s", d)
	}
	if err := s.daemonFindings(ctx, res); err != nil {
		return nil, err
	}
	res.tally = s.tally.snapshot()
	return res, nil
}

// idleReading waits for the daemon to settle and reads its footprint. A
// daemon that keeps connections open after every client left is a
// finding (a connection pinned for ever).
func (s *soak) idleReading(ctx context.Context, what string) (resources, idleState, error) {
	if s.opt.gcWait {
		s.logf("%s: waiting for the daemon to settle and collect garbage (up to %v)", what, gcBound)
	}
	var trace io.Writer
	if s.opt.verbose {
		trace = s.progress
	}
	r, st, err := settle(ctx, s.scraper, s.daemon.pid(), s.opt.gcWait, trace)
	if err != nil {
		return r, st, err
	}
	r.fdKinds = fdKinds(s.daemon.pid())
	switch {
	case !st.settled && r.active > 0:
		s.tally.fail("connections left open", "%d tunnel connections still open %v after the %s load stopped",
			int(r.active), settleBound, what)
	case !st.settled:
		s.logf("%s: goroutines or descriptors still falling after %v", what, settleBound)
	case s.opt.gcWait && !st.gcSeen:
		s.logf("%s: no garbage collection, or RSS still falling, %v after the daemon went idle", what, gcBound)
	}
	s.logf("%s: %.0f goroutines, %.0f fds, RSS %s, heap in use %s", what, r.goroutines, r.fds, mib(r.rss), mib(r.heapInuse))
	return r, st, nil
}

// daemonFindings reads what the daemon says of the run: its reload
// counters and its log. A refused or failed reload, an accept error, an
// ERROR line or a crash is a failure no injected fault explains.
func (s *soak) daemonFindings(ctx context.Context, res *result) error {
	m, err := s.scraper.scrape(ctx)
	if err != nil {
		return err
	}
	res.reloads = s.reloader.ticks.Load()
	res.configOK = m.sum("passtunnel_config_reloads_total", "result", "ok")
	res.certOK = m.sum("passtunnel_cert_reloads_total", "result", "ok")
	for _, c := range []struct{ kind, metric, result string }{
		{"config reload refused", "passtunnel_config_reloads_total", "refused"},
		{"config reload partial", "passtunnel_config_reloads_total", "partial"},
		{"certificate reload failed", "passtunnel_cert_reloads_total", "failed"},
	} {
		if n := m.sum(c.metric, "result", c.result); n > 0 {
			s.tally.fail(c.kind, "the daemon counted %.0f (see its log)", n)
		}
	}
	if n := m.sum("passtunnel_accept_errors_total"); n > 0 {
		s.tally.fail("accept errors", "the daemon counted %.0f failed accepts", n)
	}
	if res.reloads > 0 && (res.configOK == 0 || res.certOK == 0) {
		s.tally.fail("reloads not applied", "%d reloads sent; the daemon counted %.0f config and %.0f certificate reloads",
			res.reloads, res.configOK, res.certOK)
	}
	return s.scanLog()
}

// scanLog counts the daemon's ERROR lines and anything that is not a log
// line at all (a panic, the runtime's fatal errors).
func (s *soak) scanLog() error {
	errs, crash, err := s.daemon.logFindings()
	if err != nil {
		return err
	}
	for msg, n := range errs {
		s.tally.fail("daemon ERROR log", "%d× %q", n, msg)
	}
	if crash != "" {
		s.tally.fail("daemon crash", "%s", crash)
	}
	return nil
}

// version is the daemon's own account of itself, for the table.
func (s *soak) version(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, s.opt.bin, "version").Output()
	if err != nil {
		return "passtunnel (version unknown)"
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return first
}
