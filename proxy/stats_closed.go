package proxy

import (
	"sync/atomic"
	"time"
)

// reasonHandshakeFailed closes a connection whose inbound TLS handshake
// failed; its log line is the throttled "handshake failed", with the
// handshake's own reason.
const reasonHandshakeFailed = "handshake_failed"

// closeReasons is every reason proxy closes an admitted connection with,
// for the closed counters: a fixed array of atomics, so that end takes no
// lock. A reason outside it (a verdict's own, see Answered) is counted in
// a map under the counters' lock, the rare path.
var closeReasons = [...]string{
	"eof", "reset", "broken_pipe", "error",
	reasonIdle, reasonLifetime, reasonDrain, reasonShutdown, reasonCloseTimeout, reasonWriteStalled,
	reasonDialFailed, reasonTargetTLS, reasonHandshakeFailed,
	reasonProxyDialFailed, reasonProxyRefused, reasonProxyTimeout,
	reasonProxyHeader, reasonProxyMalformed, reasonPerSourceRate, reasonPerSourceHandshakes,
	reasonNotRedirected, reasonDestNotAllowed, reasonPortNotMapped,
}

// closeIndex finds a reason in closeReasons; read only, built once.
var closeIndex = func() map[string]int {
	m := make(map[string]int, len(closeReasons))
	for i, r := range closeReasons {
		m[r] = i
	}
	return m
}()

// closedCounters count admitted connections by close reason and time
// them from accept to close.
type closedCounters struct {
	byReason  [len(closeReasons)]atomic.Uint64
	durations histogram
}

// closed counts one admitted connection that ended after d with reason.
func (c *counters) closed(reason string, d time.Duration) {
	c.durations.observe(durationBounds[:], d)
	if i, ok := closeIndex[reason]; ok {
		c.byReason[i].Add(1)
		return
	}
	c.bump(&c.closedOther, reason)
}

// closedSnapshot is the close counts by reason, the reasons never used
// left out.
func (c *counters) closedSnapshot() map[string]uint64 {
	out := cloneOrEmpty(c.closedOther) // under c.mu: see snapshot
	for i := range c.byReason {
		if n := c.byReason[i].Load(); n > 0 {
			out[closeReasons[i]] += n
		}
	}
	return out
}
