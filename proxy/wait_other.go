//go:build !unix

package proxy

import "errors"

// sockReadSupported: no direct socket reads here. The pump then blocks in
// Read holding a pool buffer, which is correct but costs memory when idle.
const sockReadSupported = false

func rawRead(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }

func errAgain(error) bool { return false }
