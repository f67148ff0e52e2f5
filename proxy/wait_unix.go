//go:build unix

package proxy

import "syscall"

// rawSockSupported: sockReader and sockWriter can use a socket's
// descriptor directly.
const rawSockSupported = true

// rawRead is one non-blocking read(2) on a socket; errAgain reports that
// nothing was queued.
func rawRead(fd uintptr, b []byte) (int, error) {
	return rawIO(syscall.SYS_READ, fd, b)
}

// rawWrite is one non-blocking write(2) on a socket.
func rawWrite(fd uintptr, b []byte) (int, error) {
	return rawIO(syscall.SYS_WRITE, fd, b)
}

func errAgain(err error) bool { return err == syscall.EAGAIN }
