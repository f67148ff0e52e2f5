package proxy

import (
	"context"
	"sync"
	"time"
)

// A tunnel with TargetCheck dials each of its targets every TargetCheck,
// under connect_timeout, the way a connection would (the tunnel's mark,
// its CONNECT proxy), and closes the connection at once. A failed check
// marks the target down (tried after the others, Up false in its stats)
// until a check or a connection's dial succeeds; a check that succeeds
// also ends a backoff, so a target back up gets connections again before
// its backoff runs out. The daemon's /readyz reads the verdicts.

// startTargetChecks starts the tunnel's check loop if opts want checks,
// or wakes it so that it sees new settings. The loop is started at most
// once, never after stop, and counts in wg, so Close waits for it.
func (t *Tunnel) startTargetChecks(o *Options) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.checking:
		select {
		case t.checkWake <- struct{}{}:
		default: // a wake-up is pending already
		}
	case o.TargetCheck > 0 && !t.stopping:
		t.checking = true
		t.wg.Add(1)
		go t.checkTargets()
	}
}

// checkTargets checks the targets at once, then every TargetCheck, until
// the tunnel stops. An Update (a config reload) checks at once too, with
// the new targets and interval; an interval of 0 idles the loop.
func (t *Tunnel) checkTargets() {
	defer t.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-t.stopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.checkWake:
		case <-timer.C:
		}
		o := t.opts.Load()
		if o.TargetCheck <= 0 {
			// Turned off: forget the verdicts, here where no round can
			// write one after.
			for _, s := range o.targets.states {
				s.clearCheck()
			}
			timer.Stop()
			continue
		}
		var wg sync.WaitGroup
		for _, s := range o.targets.states {
			wg.Go(func() { t.checkTarget(ctx, o, s) })
		}
		wg.Wait()
		timer.Reset(o.TargetCheck)
	}
}

// checkTarget dials one target and records the verdict, logging when it
// changes: a WARN when the target goes down, an INFO when it is back.
func (t *Tunnel) checkTarget(ctx context.Context, o *Options, s *targetState) {
	c := &conn{t: t, opts: o} // what dialer and dialVia read of a connection
	d := c.dialer(o.Limits.ConnectTimeout)
	d.Resolver = o.resolver
	raw, _, err := c.dialVia(ctx, &d, s.addr)
	if err == nil {
		raw.Close()
	}
	if ctx.Err() != nil {
		return // stopping: no verdict
	}
	switch changed := s.checked(err); {
	case changed && err != nil:
		t.log.Warn("target check failed", "target", s.addr.String(), "error", err)
	case changed:
		t.log.Info("target up again", "target", s.addr.String(), "by", "target_check")
	}
}

// checked records a check's result: a failure marks the target down, a
// success marks it up and ends its backoff. It reports whether the target
// went from up to down or back.
func (s *targetState) checked(err error) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		changed = s.checkErr == nil
		s.checkErr = err
		return changed
	}
	changed = s.checkErr != nil || s.fails > 0
	s.fails, s.until, s.checkErr = 0, time.Time{}, nil
	return changed
}

// clearCheck forgets the last check's verdict (checks were turned off).
func (s *targetState) clearCheck() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkErr = nil
}

// lastCheck is why the last check failed, nil when it passed.
func (s *targetState) lastCheck() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkErr
}
