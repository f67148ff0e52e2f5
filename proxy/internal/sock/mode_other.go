//go:build !linux

package sock

import (
	"io/fs"
	"syscall"
)

// presetMode does nothing where a socket's inode mode does not carry over
// to its file: the chmod after bind sets the mode.
func presetMode(fs.FileMode) func(network, address string, c syscall.RawConn) error { return nil }
