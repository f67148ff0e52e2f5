package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"

	"golang.org/x/time/rate"
)

func TestThrottledLogger(t *testing.T) {
	logs := &logBuf{}
	l := newThrottledLogger(logs.logger(), rate.Limit(1e-9), 2)
	for i := range 5 {
		l.Warn("handshake failed", "n", i)
	}
	if n := strings.Count(logs.String(), "handshake failed"); n != 2 {
		t.Fatalf("%d lines through a burst of 2:\n%s", n, logs)
	}
	l.limit.SetLimit(rate.Inf)
	l.Warn("handshake failed", "n", 5)
	out := logs.String()
	if !strings.Contains(out, `msg="suppressed 3 log lines"`) || !strings.Contains(out, "n=5") {
		t.Fatalf("no suppression report:\n%s", out)
	}
	l.flush()
	if strings.Count(logs.String(), "log lines") != 1 {
		t.Fatal("flush repeated a report")
	}
}

// The count of a burst's dropped lines is written on its own within
// flushAfter when no later line carries it.
func TestThrottledLoggerFlushesOnATimer(t *testing.T) {
	logs := &logBuf{}
	l := newThrottledLogger(logs.logger(), rate.Limit(1e-9), 1)
	l.flushAfter = 10 * time.Millisecond
	for i := range 4 {
		l.Warn("handshake failed", "n", i)
	}
	testwait.Until(t, 5*time.Second, "the suppressed count written", func() bool {
		return strings.Contains(logs.String(), `msg="suppressed 3 log lines"`)
	})
}
