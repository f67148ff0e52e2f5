// Package sock holds what package proxy needs of the operating system's
// socket interface beyond package net: the mode a unix socket's file is
// created with, and the errno values connections fail with. Keeping them
// here keeps syscall out of package proxy (the pump's own system calls are
// in package pump).
package sock

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"syscall"
)

// ListenUnix binds and listens on path. On Linux the socket's inode gets
// mode before bind, and bind creates the file with that mode less the
// umask: at no moment may a process outside mode connect (a chmod after a
// plain bind would leave a window with 0777 less the umask). Elsewhere only
// the caller's chmod after it applies.
func ListenUnix(path string, mode fs.FileMode) (*net.UnixListener, error) {
	lc := net.ListenConfig{Control: presetMode(mode)}
	ln, err := lc.Listen(context.Background(), "unix", path)
	if err != nil {
		return nil, err
	}
	return ln.(*net.UnixListener), nil
}

// Refused reports a connection refused: nobody listens on the address.
func Refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// Reset reports a connection the peer reset.
func Reset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

// BrokenPipe reports a write to a connection the peer had closed.
func BrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }

// ResetOnClose makes closing c send a TCP reset instead of a FIN, so that
// its peer reads an error rather than a clean end. Other kinds of
// connection (unix sockets) have no reset and close as usual.
func ResetOnClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // best effort: the close that follows happens either way
	}
}

// Unreachable reports a host or network the kernel has no route to.
func Unreachable(err error) bool {
	return errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}
