package proxy

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// staleProbeTimeout bounds the dial that checks whether a leftover unix
// socket still has a listener.
const staleProbeTimeout = time.Second

// listen binds a tcp or unix address. A unix listener unlinks its path when
// closed.
func listen(a config.Address) (net.Listener, error) {
	if a.Network != config.NetUnix {
		return net.Listen("tcp", a.Addr)
	}
	if err := removeStaleSocket(a.Addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", a.Addr)
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return ln, nil
}

// ListenAddress binds a as tunnels do (a stale unix socket left by a dead
// process is replaced, a live one is not), for other listeners of the
// process such as the admin endpoint.
func ListenAddress(a config.Address) (net.Listener, error) { return listen(a) }

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
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probe existing socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}
