package proxy

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/passtunnel/passtunnel/proxy/internal/sock"
)

// staleProbeTimeout bounds the dial that checks whether a leftover unix
// socket still has a listener.
const staleProbeTimeout = time.Second

// listen binds a tcp or unix address. A unix listener unlinks its path when
// closed, and its socket file has exactly mode (0: DefaultListenMode)
// whatever the umask: who may connect is who may write to it.
func listen(a Address, mode fs.FileMode) (net.Listener, error) {
	if a.Network != NetTCP && a.Network != NetUnix {
		return nil, fmt.Errorf("address %q: unknown network %q", a.Addr, a.Network)
	}
	if a.Network != NetUnix {
		return net.Listen("tcp", a.Addr)
	}
	mode = socketMode(mode)
	if err := removeStaleSocket(a.Addr); err != nil {
		return nil, err
	}
	ln, err := sock.ListenUnix(a.Addr, mode) // see there: the mode applies from bind on
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	// bind applied the umask; now add back what it took away.
	if err := os.Chmod(a.Addr, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set the socket's mode: %w", err)
	}
	return ln, nil
}

// socketMode is the mode a unix listen socket gets.
func socketMode(mode fs.FileMode) fs.FileMode {
	if mode == 0 {
		return DefaultListenMode
	}
	return mode.Perm()
}

// ListenAddress binds a as tunnels do (a stale unix socket left by a dead
// process is replaced, a live one is not; a unix socket gets mode
// DefaultListenMode), for other listeners of the process such as
// the admin endpoint.
func ListenAddress(a Address) (net.Listener, error) { return listen(a, 0) }

// removeStaleSocket deletes a socket file left by a process that died
// without unlinking it, but refuses to touch a socket somebody still serves
// or a path that is not a socket at all.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, staleProbeTimeout)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s: another process is listening on it", path)
	}
	if !sock.Refused(err) {
		return fmt.Errorf("probe existing socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}
