package sock

import (
	"io/fs"
	"syscall"
)

// presetMode gives a socket's inode mode before bind: Linux creates a unix
// socket's file with the mode of that inode less the umask.
func presetMode(mode fs.FileMode) func(network, address string, c syscall.RawConn) error {
	return func(network, _ string, c syscall.RawConn) error {
		if network != "unix" {
			return nil
		}
		var err error
		if cerr := c.Control(func(fd uintptr) { err = syscall.Fchmod(int(fd), uint32(mode.Perm())) }); cerr != nil {
			return cerr
		}
		return err
	}
}
