package proxy

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Log lines a peer can trigger at will (failed handshakes, refusals) go
// through a per-tunnel token bucket so that a flood cannot fill the disk.
const (
	warnRate  = rate.Limit(10)
	warnBurst = 20
	// suppressedFlush is how soon the count of dropped lines is written
	// when no line follows the burst to carry it.
	suppressedFlush = time.Second
)

// throttledLogger drops WARN lines beyond its rate and reports how many it
// dropped on the next line it lets through, or after flushAfter, whichever
// comes first: a burst that ends must not wait for the next one to be
// counted.
type throttledLogger struct {
	log        *slog.Logger
	limit      *rate.Limiter
	suppressed atomic.Uint64
	flushAfter time.Duration
}

func newThrottledLogger(log *slog.Logger, r rate.Limit, burst int) *throttledLogger {
	return &throttledLogger{log: log, limit: rate.NewLimiter(r, burst), flushAfter: suppressedFlush}
}

func (l *throttledLogger) Warn(msg string, args ...any) {
	if !l.limit.Allow() {
		if l.suppressed.Add(1) == 1 {
			time.AfterFunc(l.flushAfter, l.flush) // a no-op if a line carried the count first
		}
		return
	}
	l.flush()
	l.log.Warn(msg, args...)
}

// flush reports the lines dropped since the last line written, if any.
func (l *throttledLogger) flush() {
	if n := l.suppressed.Swap(0); n > 0 {
		l.log.Warn(fmt.Sprintf("suppressed %d log lines", n), "suppressed", n)
	}
}
