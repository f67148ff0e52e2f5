package proxy

import (
	"time"
)

// Serve accepts connections until Shutdown or Close, then returns nil. An
// accept that fails, for whatever reason, is retried after a pause (see
// acceptFailed): one tunnel's listener in trouble must not end the process,
// and with it every other tunnel and connection.
func (t *Tunnel) Serve() error {
	var fails acceptFailures
	for {
		raw, err := t.ln.Accept()
		if err == nil {
			t.acceptResumed(&fails)
			t.admit(raw)
			continue
		}
		if t.isStopped() {
			return nil
		}
		if !t.pause(t.acceptFailed(err, &fails)) {
			return nil
		}
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
func (t *Tunnel) AcceptFailing() error {
	f := t.failing.Load()
	if f == nil || !time.Now().Before(f.until) {
		return nil
	}
	return f.err
}

// acceptFailed records, counts and logs a failed accept, and returns how
// long to pause before the next one.
func (t *Tunnel) acceptFailed(err error, fails *acceptFailures) time.Duration {
	now := time.Now()
	if fails.count == 0 {
		fails.since = now
	}
	fails.count++
	fails.backoff = min(max(2*fails.backoff, acceptBackoffMin), acceptBackoffMax)
	t.stats.acceptErrors.Add(1)
	t.failing.Store(&acceptFailure{err: err, until: now.Add(fails.backoff + acceptRetryGrace)})
	t.warn.Warn("accept failed, retrying", "listen", addrString(t.ln.Addr()), "error", err,
		"retry_in", fails.backoff)
	return fails.backoff
}

// acceptResumed clears the failure record after an accept that succeeded,
// saying so once per run of failures.
func (t *Tunnel) acceptResumed(fails *acceptFailures) {
	if fails.count == 0 {
		return // the common case: nothing failed, nothing to clear
	}
	t.failing.Store(nil)
	t.log.Info("accepting again", "listen", addrString(t.ln.Addr()), "failed_accepts", fails.count,
		"after", time.Since(fails.since).Round(time.Millisecond))
	*fails = acceptFailures{}
}

// pause waits d, or less if the tunnel stops meanwhile; it reports whether
// the tunnel is still running.
func (t *Tunnel) pause(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.stopped:
		return false
	}
}
