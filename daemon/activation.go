package daemon

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/coreos/go-systemd/v22/activation"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

// inheritedSockets are the listen sockets systemd passed the process
// (socket activation: LISTEN_FDS, LISTEN_FDNAMES), by name. The fleet
// keeps them for its whole life and never serves them itself: each tunnel
// that listens on `systemd:NAME` serves a duplicate, which its Close
// closes, so that a reload can stop a tunnel and start another on the
// same socket, and a tunnel removed and added again finds it still there.
type inheritedSockets map[string][]net.Listener

// inheritSockets takes the sockets systemd passed, once: the environment
// that names them is removed, as no other process may take them.
func (f *Fleet) inheritSockets() error {
	if os.Getenv("LISTEN_FDS") == "" {
		return nil
	}
	lns, err := activation.ListenersWithNames()
	if err != nil {
		return fmt.Errorf("sockets passed by systemd: %w", err)
	}
	f.sockets = lns
	if len(lns) > 0 {
		f.log.Info("sockets passed by systemd", "names", f.sockets.names())
	}
	return nil
}

func (s inheritedSockets) names() string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(s)), ", ")
}

// listener is a duplicate of the socket systemd passed as name.
func (s inheritedSockets) listener(name string) (net.Listener, error) {
	lns := s[name]
	switch len(lns) {
	case 0:
		return nil, fmt.Errorf("systemd passed no socket named %q (passed: %s); name it with FileDescriptorName= "+
			"in a socket unit whose Service= is this service, and start the service through it", name, s.names())
	case 1:
	default:
		return nil, fmt.Errorf("systemd passed %d sockets named %q: a tunnel serves one; "+
			"give each ListenStream= a socket unit (or FileDescriptorName=) of its own", len(lns), name)
	}
	filer, ok := lns[0].(interface{ File() (*os.File, error) })
	if !ok {
		return nil, errors.New("socket " + name + " cannot be duplicated")
	}
	file, err := filer.File()
	if err != nil {
		return nil, fmt.Errorf("socket %q: %w", name, err)
	}
	defer file.Close() // FileListener made its own duplicate
	ln, err := net.FileListener(file)
	if err != nil {
		return nil, fmt.Errorf("socket %q: %w", name, err)
	}
	return ln, nil
}

// inherit gives opts the socket systemd passed for a tunnel that listens
// on `systemd:NAME`; proxy binds every other address itself.
func (f *Fleet) inherit(t *config.Tunnel, opts *proxy.Options) error {
	if t.Listen.Network != config.NetSystemd {
		return nil
	}
	ln, err := f.sockets.listener(t.Listen.Addr)
	if err != nil {
		return Located{fmt.Errorf("%s: tunnel %q: listen: %w", t.Where("listen"), t.Name, err)}
	}
	opts.Listener = ln
	return nil
}
