// Package testwait waits, with a bound, for a condition that other
// goroutines make true. It is for tests only.
package testwait

import (
	"testing"
	"time"
)

// Until polls cond every 10 ms until it holds, and stops the test if it
// does not within limit. Polling rather than a notification lets cond be
// anything a test can observe, such as the certificate a server presents.
func Until(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for: %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
