//go:build linux && race

package pump

import (
	"runtime"
	"syscall"
	"unsafe"
)

// raceIO is what the race detector's I/O edges hang on, as syscall's own
// token does for syscall.Read and Write: a socket write happens before the
// reads that return its bytes. Only its address is used.
var raceIO byte

func raceIOStart(trap uintptr) {
	if trap == syscall.SYS_WRITE {
		runtime.RaceReleaseMerge(unsafe.Pointer(&raceIO))
	}
}

// raceIODone records the kernel's access to b, the part of the buffer the
// call moved: it read b for a write, and wrote into b for a read.
func raceIODone(trap uintptr, b []byte) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	if trap == syscall.SYS_WRITE {
		if len(b) > 0 {
			runtime.RaceReadRange(p, len(b))
		}
		return
	}
	if len(b) > 0 {
		runtime.RaceWriteRange(p, len(b))
	}
	runtime.RaceAcquire(unsafe.Pointer(&raceIO))
}
