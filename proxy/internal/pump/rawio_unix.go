//go:build unix

package pump

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

// isNonBlocking reports whether fd has O_NONBLOCK set.
func isNonBlocking(fd uintptr) bool {
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	return errno == 0 && flags&syscall.O_NONBLOCK != 0
}
