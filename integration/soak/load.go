package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// faultReportWait bounds the wait for the backend's report of a transfer
// that injected a fault: the backend reports before it breaks the
// connection, so the report is there by the time the client sees it.
const faultReportWait = 5 * time.Second

// floodInterval is the pause between two floods.
const floodInterval = 2 * time.Second

// load runs the mix against the daemon's tunnels and judges every
// transfer.
type load struct {
	opt     options
	seed    uint64
	addrs   addrs
	tally   *tally
	reports *reports
	ids     atomic.Uint64
	// lastReload is when the latest reload began (UnixNano), to date a
	// failure against it; reloads counts them, to tell the transfers that
	// were in flight across one.
	lastReload atomic.Int64
	reloads    atomic.Int64
}

// shape is how many of each kind of worker a load of conns runs.
type shape struct {
	integrity, churn, slowloris, floodBurst int
}

func shapeOf(conns int) shape {
	return shape{integrity: conns, churn: max(1, conns/8), slowloris: max(2, conns/4), floodBurst: max(4, conns)}
}

// run drives the load until ctx is done, then waits for what is in flight
// to finish: every transfer runs to its end, so that stopping is never
// counted as a failure.
func (l *load) run(ctx context.Context) {
	sh := shapeOf(l.opt.conns)
	var wg sync.WaitGroup
	for w := range sh.integrity {
		p := l.planner(uint64(w))
		wg.Go(func() { l.loop(ctx, p, p.integrity) })
	}
	for w := range sh.churn {
		p := l.planner(uint64(1<<32 + w))
		wg.Go(func() { l.loop(ctx, p, p.churn) })
	}
	wg.Go(func() { l.slowloris(ctx, sh.slowloris) })
	wg.Go(func() { l.flood(ctx, sh.floodBurst, floodInterval) })
	wg.Wait()
}

func (l *load) planner(stream uint64) *planner {
	return &planner{rnd: rand.New(rand.NewPCG(l.seed, stream)), seed: l.seed, maxSize: l.opt.maxSize,
		addrs: l.addrs, nextID: func() uint64 { return l.ids.Add(1) }}
}

// loop runs the transfers next makes, one at a time, until ctx is done.
func (l *load) loop(ctx context.Context, p *planner, next func() plan) {
	for ctx.Err() == nil {
		l.transfer(next(), p.rnd)
	}
}

// transfer runs one transfer and judges it.
func (l *load) transfer(p plan, rnd *rand.Rand) {
	l.tally.conn(p.kind)
	var report <-chan backendReport
	if p.fault != faultRefused {
		report = l.reports.expect(p.h.id)
		defer l.reports.forget(p.h.id)
	}
	start, reloadsBefore := time.Now(), l.reloads.Load()
	v := transferVerdict{p: p, cs: runClient(p, rnd)}
	v.acrossReload = l.reloads.Load() != reloadsBefore
	if report != nil {
		wait := reportWait
		if p.fault != "" {
			wait = faultReportWait
		}
		select {
		case r := <-report:
			v.rep = &r
		case <-time.After(wait):
		}
	}
	v.took = time.Since(start)
	l.judge(v)
}

func (l *load) judge(v transferVerdict) {
	checked, lost, corrupted := v.bytes()
	kind, detail := v.problem()
	if v.p.fault != "" {
		lost = 0 // the fault's doing
		kind, detail = v.faultProblem()
	}
	l.tally.bytes(checked, lost, corrupted)
	switch {
	case kind != "":
		l.fail(kind, "%v: %s, after %v", v.p, detail, v.took.Round(time.Millisecond))
	case v.p.fault == "" && v.acrossReload:
		l.tally.acrossReload()
	case v.p.fault != "" && v.cs.err == nil:
		l.tally.injected(v.p.fault, "clean end")
	case v.p.fault != "":
		l.tally.injected(v.p.fault, errorKind(v.cs.err))
	}
}

// fail counts an unexpected failure, dated against the latest reload.
func (l *load) fail(kind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if at := l.lastReload.Load(); at != 0 {
		msg += fmt.Sprintf(" (latest reload began %v earlier)", time.Since(time.Unix(0, at)).Round(time.Millisecond))
	}
	l.tally.fail(kind, "%s", msg)
}
