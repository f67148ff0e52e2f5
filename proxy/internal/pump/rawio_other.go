//go:build !unix

package pump

import "errors"

// rawSockSupported: no direct socket reads or writes here. The pump then blocks in
// Read holding a pool buffer, which is correct but costs memory when idle.
const rawSockSupported = false

func rawRead(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }

func rawWrite(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }

func errAgain(error) bool { return false }

func isNonBlocking(uintptr) bool { return false }
