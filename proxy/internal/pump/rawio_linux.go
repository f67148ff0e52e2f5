package pump

import (
	"syscall"
	"unsafe"
)

// rawIO makes a read or write system call that the Go runtime does not
// hear of (see sockWriter for why). The socket is non-blocking, as every
// socket of the net package is, so the call returns at once. The race
// detector is told what syscall.Read and Write would tell it (see
// rawio_race.go), so that a pool buffer reused while the kernel still
// fills or drains it is still caught.
func rawIO(trap, fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	raceIOStart(trap)
	for {
		n, _, errno := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch errno {
		case 0:
			raceIODone(trap, b[:n])
			return int(n), nil
		case syscall.EINTR:
			continue
		}
		return 0, errno
	}
}
