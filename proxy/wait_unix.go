//go:build unix

package proxy

import "syscall"

// sockReadSupported: sockReader can read a socket's descriptor directly.
const sockReadSupported = true

// rawRead is one non-blocking read(2) on a socket; errAgain reports that
// nothing was queued.
func rawRead(fd uintptr, b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), b)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

func errAgain(err error) bool { return err == syscall.EAGAIN }
