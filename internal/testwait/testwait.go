// Package testwait waits, with a bound, for a condition that other
// goroutines make true. It is for tests only.
package testwait

import (
	"errors"
	"testing"
	"time"
)

// interval is how often a condition is checked: short next to any bound a
// test sets, long enough not to load the machine the test measures.
const interval = 10 * time.Millisecond

// Until polls cond every 10 ms until it holds, and stops the test if it
// does not within limit. Polling rather than a notification lets cond be
// anything a test can observe, such as the certificate a server presents.
func Until(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	waiting := errors.New("waiting for: " + what)
	Poll(t, limit, func() error {
		if cond() {
			return nil
		}
		return waiting
	})
}

// Poll calls check every 10 ms until it returns nil, and stops the test
// with check's last error if that takes longer than limit. The error says
// what the condition looked like when the test gave up (the last answer,
// the last value), which a fixed message cannot. check may stop the test
// itself on a failure that waiting will not mend.
func Poll(t testing.TB, limit time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v: %v", limit, err)
		}
		time.Sleep(interval)
	}
}
