//go:build !unix

package proxy

import "syscall"

// readableWaiter cannot wait without a buffer here; the caller then blocks in
// Read holding a pool buffer, which is correct but costs memory when idle.
func readableWaiter(syscall.RawConn) func() error {
	return func() error { return nil }
}
