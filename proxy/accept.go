package proxy

import (
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// Serve accepts connections until Shutdown or Close, then returns nil. An
// accept that fails, for whatever reason, is retried after a pause (see
// acceptFailed): one tunnel's listener in trouble must not end the process,
// and with it every other tunnel and connection.
func (t *Tunnel) Serve() error { return t.serve(t.admit) }

// acceptor is an accept loop and what it publishes about its listener: a
// tunnel's, and a Group's, whose listener several tunnels share.
type acceptor struct {
	ln   net.Listener
	log  *slog.Logger
	warn *throttledLogger
	// errs counts failed accepts (the owner's Stats.AcceptErrors).
	errs *atomic.Uint64
	// failing is what serve last published about accept failures; nil
	// once an accept succeeded (see AcceptFailing).
	failing atomic.Pointer[acceptFailure]
	stopped chan struct{} // closed when the listener is closed
}

// serve hands every accepted connection to handle until the listener is
// stopped.
func (a *acceptor) serve(handle func(net.Conn)) error {
	var fails acceptFailures
	for {
		raw, err := a.ln.Accept()
		if err == nil {
			a.acceptResumed(&fails)
			handle(raw)
			continue
		}
		if a.isStopped() {
			return nil
		}
		if !a.pause(a.acceptFailed(err, &fails)) {
			return nil
		}
	}
}

func (a *acceptor) isStopped() bool {
	select {
	case <-a.stopped:
		return true
	default:
		return false
	}
}

// A failed accept is retried after a pause that doubles from
// acceptBackoffMin to acceptBackoffMax: short enough that a passing
// shortage (file descriptors, memory) costs clients little, long enough
// that a listener that fails at once on every call does not spin a core or
// flood the log.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	// acceptRetryGrace is how long a retry may wait in accept before the
	// listener counts as working again. A listener that still fails does so
	// at once; a retry that waits longer found a working listener with no
	// client waiting, and /readyz must not keep the tunnel out of rotation
	// until a client happens to come (behind a Service, none would).
	acceptRetryGrace = time.Second
)

// acceptFailures is Serve's own record of the failures since the last
// accept that succeeded.
type acceptFailures struct {
	count   uint64
	since   time.Time
	backoff time.Duration
}

// acceptFailure is what Serve publishes for AcceptFailing to read.
type acceptFailure struct {
	err error
	// until is when the retry is due, plus acceptRetryGrace: past it, the
	// retry is waiting for a client rather than failing.
	until time.Time
}

// AcceptFailing returns the error of the listener's last accept while the
// listener is failing, or nil when it works: an accept succeeded since,
// or the retry has been waiting for a client longer than a failing
// listener would let it.
func (a *acceptor) AcceptFailing() error {
	f := a.failing.Load()
	if f == nil || !time.Now().Before(f.until) {
		return nil
	}
	return f.err
}

// AcceptFailing is the error of the tunnel's failing listener, nil when it
// works; for a tunnel of a Group, the group's listener.
func (t *Tunnel) AcceptFailing() error {
	if ml, ok := t.ln.(*memberListener); ok {
		return ml.g.AcceptFailing()
	}
	return t.acceptor.AcceptFailing()
}

// acceptFailed records, counts and logs a failed accept, and returns how
// long to pause before the next one.
func (a *acceptor) acceptFailed(err error, fails *acceptFailures) time.Duration {
	now := time.Now()
	if fails.count == 0 {
		fails.since = now
	}
	fails.count++
	fails.backoff = min(max(2*fails.backoff, acceptBackoffMin), acceptBackoffMax)
	a.errs.Add(1)
	a.failing.Store(&acceptFailure{err: err, until: now.Add(fails.backoff + acceptRetryGrace)})
	a.warn.Warn("accept failed, retrying", "listen", addrString(a.ln.Addr()), "error", err,
		"retry_in", fails.backoff)
	return fails.backoff
}

// acceptResumed clears the failure record after an accept that succeeded,
// saying so once per run of failures.
func (a *acceptor) acceptResumed(fails *acceptFailures) {
	if fails.count == 0 {
		return // the common case: nothing failed, nothing to clear
	}
	a.failing.Store(nil)
	a.log.Info("accepting again", "listen", addrString(a.ln.Addr()), "failed_accepts", fails.count,
		"after", time.Since(fails.since).Round(time.Millisecond))
	*fails = acceptFailures{}
}

// pause waits d, or less if the listener stops meanwhile; it reports
// whether it still runs.
func (a *acceptor) pause(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-a.stopped:
		return false
	}
}
