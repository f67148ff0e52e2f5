package proxy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Balance says how a tunnel with several targets orders them for each
// connection. Whatever the order, a target in backoff comes after those
// that are not, and a connection is refused only when every target failed.
type Balance string

const (
	// BalanceFailover tries the targets in the order given: the first one
	// up takes every connection.
	BalanceFailover Balance = "failover"
	// BalanceRoundRobin starts each connection at the next target.
	BalanceRoundRobin Balance = "round_robin"
	// BalanceRandom starts each connection at a random target.
	BalanceRandom Balance = "random"
)

// A target whose dial failed is tried after the others for a backoff that
// doubles with each failure in a row, from targetBackoffMin to
// targetBackoffMax, and ends with the first success.
const (
	targetBackoffMin = time.Second
	targetBackoffMax = 30 * time.Second
)

// targetState is what the tunnel knows of one target, across connections
// and config reloads that keep the target.
type targetState struct {
	addr       Address
	ok, failed atomic.Uint64
	failures   [len(dialFailureReasons)]atomic.Uint64 // failed, by reason

	mu    sync.Mutex
	fails int       // dials failed in a row
	until time.Time // in backoff until then
	// checkErr is why the last target check failed (see checked); nil
	// when it passed, or checks are off.
	checkErr error
}

// up reports whether the target is out of backoff at now and passed its
// last check.
func (s *targetState) up(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !now.Before(s.until) && s.checkErr == nil
}

// succeeded ends the target's backoff and a failed check's verdict; it
// reports whether the target was down.
func (s *targetState) succeeded() (recovered bool) {
	s.ok.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	recovered = s.fails > 0 || s.checkErr != nil
	s.fails, s.until, s.checkErr = 0, time.Time{}, nil
	return recovered
}

// dialFailed starts or lengthens the target's backoff and returns it, 0
// when the target was in backoff already: connections that tried it
// meanwhile (every target being down) do not lengthen it. reason indexes
// dialFailureReasons.
func (s *targetState) dialFailed(now time.Time, reason int) time.Duration {
	s.failed.Add(1)
	s.failures[reason].Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.until) {
		return 0
	}
	d := targetBackoffMax
	if s.fails < 5 { // 1s << 5 is past the maximum already
		d = min(targetBackoffMin<<s.fails, targetBackoffMax)
	}
	s.fails++
	s.until = now.Add(d)
	return d
}

// targetTable holds the tunnel's target states by address, so that a
// reload keeping a target keeps its backoff and counts.
type targetTable struct {
	mu     sync.Mutex
	byAddr map[Address]*targetState
	next   atomic.Uint64 // round_robin's position
	intn   func(int) int // random's choice; rand.IntN outside tests
}

func newTargetTable() *targetTable {
	return &targetTable{byAddr: map[Address]*targetState{}, intn: rand.IntN}
}

// targetList is the targets of one Options, bound to their states.
type targetList struct {
	table   *targetTable
	balance Balance
	states  []*targetState
}

// use binds o's targets to their states, dropping the states of targets
// o no longer has (connections that still hold them keep them).
func (tt *targetTable) use(o *Options) *targetList {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	l := &targetList{table: tt, balance: o.Balance}
	kept := make(map[Address]*targetState, len(o.targetAddrs()))
	for _, a := range o.targetAddrs() {
		s := tt.byAddr[a]
		if s == nil {
			s = &targetState{addr: a}
		}
		kept[a] = s
		l.states = append(l.states, s)
	}
	tt.byAddr = kept
	return l
}

// targetAddrs is Targets, or Target alone when Targets is empty.
func (o *Options) targetAddrs() []Address {
	switch {
	case len(o.Targets) > 0:
		return o.Targets
	case o.Transparent.on():
		return nil // each connection's own destination
	}
	return []Address{o.Target}
}

// targetsString names o's targets for log lines: "a:80,b:80".
func (o *Options) targetsString() string {
	if o.Transparent.on() {
		return "original destination"
	}
	addrs := o.targetAddrs()
	names := make([]string, len(addrs))
	for i, a := range addrs {
		names[i] = a.String()
	}
	return strings.Join(names, ",")
}

// targetLogArgs are the target fields of the tunnel's start and update
// lines; the balance only matters with several targets.
func (o *Options) targetLogArgs() []any {
	args := []any{"target", o.targetsString()}
	if o.ConnectProxy.on() {
		args = append(args, "connect_proxy", o.ConnectProxy.Addr)
	}
	if len(o.targetAddrs()) > 1 {
		args = append(args, "balance", o.Balance)
	}
	return args
}

// order is the order one connection tries the targets in: the balance's,
// those in backoff moved after the others.
func (l *targetList) order(now time.Time) []*targetState {
	n := len(l.states)
	start := 0
	switch {
	case n == 1:
	case l.balance == BalanceRoundRobin:
		start = int((l.table.next.Add(1) - 1) % uint64(n))
	case l.balance == BalanceRandom:
		start = l.table.intn(n)
	}
	out := make([]*targetState, 0, n)
	var later []*targetState
	for i := range n {
		s := l.states[(start+i)%n]
		if s.up(now) {
			out = append(out, s)
		} else {
			later = append(later, s)
		}
	}
	return append(out, later...)
}

// dialTargets dials the connection's targets in their order until one
// answers. d dials each target, a name being resolved again each time
// and every address it has tried (net.Dialer falls back from one to the
// next, spreading d.Timeout over them): so each target gets
// connect_timeout, and a connection waits at most that times the number
// of targets. With several targets each failure is logged (throttled),
// with the backoff it starts; when none answers, the error names them all.
// Through a CONNECT proxy each target is asked of the proxy in turn; a
// failure of the proxy itself (see proxyError) ends the tries at once.
func (c *conn) dialTargets(ctx context.Context, d *net.Dialer) (net.Conn, []byte, Address, error) {
	d.Resolver = c.opts.resolver
	order := c.opts.targets.order(time.Now())
	var failed targetErrors
	for _, s := range order {
		raw, early, err := c.dialVia(ctx, d, s.addr)
		if err == nil {
			if s.succeeded() {
				c.t.log.Info("target up again", "target", s.addr.String())
			}
			return raw, early, s.addr, nil
		}
		var pe *proxyError
		if ctx.Err() != nil || errors.As(err, &pe) && pe.proxyFault {
			return nil, nil, Address{}, err // aborted, or the proxy's fault: not the target's
		}
		reason := dialFailureReason(err)
		backoff := s.dialFailed(time.Now(), reason)
		if len(order) > 1 { // with one target, targetFailed's line is the whole story
			args := []any{"target", s.addr.String(), "reason", dialFailureReasons[reason], "error", err}
			if backoff > 0 {
				args = append(args, "backoff", backoff)
			}
			c.t.warn.Warn("target dial failed", args...)
		}
		failed = append(failed, targetError{s.addr.String(), err})
	}
	return nil, nil, Address{}, failed
}

// targetError is one target's failed dial.
type targetError struct {
	target string
	err    error
}

// targetErrors are the failed dials of one connection, in order.
type targetErrors []targetError

func (e targetErrors) Error() string {
	if len(e) == 1 {
		return e[0].err.Error()
	}
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = fmt.Sprintf("%s: %v", f.target, f.err)
	}
	return "every target failed: " + strings.Join(parts, "; ")
}

func (e targetErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, f := range e {
		out[i] = f.err
	}
	return out
}

// TargetStats are the counts of one target.
type TargetStats struct {
	Target string // as the user writes it
	// OK and Failed count the dials of the target that connected and that
	// failed; a connection tries one target after another, so one
	// connection can count several failures.
	OK, Failed uint64
	// Failures splits Failed by reason: "refused", "timeout",
	// "unreachable", "dns", "proxy_refused", "proxy_timeout", "error".
	Failures map[string]uint64
	// Up is false while the target is in backoff after a failed dial, or
	// its last target check failed.
	Up bool
	// CheckErr is why the last target check failed; nil when it passed,
	// or checks are off.
	CheckErr error
}

// stats reads the counts of the targets new connections use.
func (l *targetList) stats(now time.Time) []TargetStats {
	out := make([]TargetStats, len(l.states))
	for i, s := range l.states {
		out[i] = TargetStats{Target: s.addr.String(), OK: s.ok.Load(), Failed: s.failed.Load(),
			Failures: s.failureCounts(), Up: s.up(now), CheckErr: s.lastCheck()}
	}
	return out
}

// validateTargets checks o's targets and balance.
func validateTargets(o *Options) error {
	for _, a := range o.targetAddrs() {
		if a.Network != NetTCP && a.Network != NetUnix {
			return fmt.Errorf("target %q: unknown network %q", a.Addr, a.Network)
		}
		if o.ConnectProxy.on() && a.Network != NetTCP {
			return fmt.Errorf("target %q: a CONNECT proxy reaches host:port targets only", a.String())
		}
	}
	if o.ConnectProxy.on() && o.Mode != ModeClient {
		return errors.New("connect_proxy: client tunnels only")
	}
	switch o.Balance {
	case "":
		o.Balance = BalanceFailover
	case BalanceFailover, BalanceRoundRobin, BalanceRandom:
	default:
		return fmt.Errorf("balance: unknown value %q", o.Balance)
	}
	return nil
}
