//go:build unix

package proxy

import (
	"errors"
	"syscall"
)

// readableWaiter returns a function that blocks until rc has bytes (or EOF,
// or an error) to read, without a buffer: while it waits the goroutine is
// parked in the runtime poller.
//
// The poller is edge-triggered, so parking is only safe after seeing EAGAIN:
// a previous Read may have left bytes queued whose edge was already consumed.
// Hence the callback peeks first and asks to wait only when nothing is there;
// an edge arriving between the peek and the park is remembered by the poller.
func readableWaiter(rc syscall.RawConn) func() error {
	var peek [1]byte
	ready := func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN)
	}
	return func() error { return rc.Read(ready) }
}
