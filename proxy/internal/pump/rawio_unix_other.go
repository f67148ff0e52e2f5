//go:build unix && !linux

package pump

import "syscall"

// rawIO makes a read or write system call the usual way: raw system calls
// go through libc on some of these systems, and were measured on Linux only.
func rawIO(trap, fd uintptr, b []byte) (int, error) {
	for {
		var n int
		var err error
		if trap == syscall.SYS_READ {
			n, err = syscall.Read(int(fd), b)
		} else {
			n, err = syscall.Write(int(fd), b)
		}
		if err != syscall.EINTR {
			return n, err
		}
	}
}
