package config

import (
	"fmt"
	"io/fs"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// DefaultListenMode is the permission of a unix listen socket, whatever
// the umask: the owner and the group may connect (connecting takes write
// permission), others may not.
const DefaultListenMode fs.FileMode = 0o660

var octalMode = regexp.MustCompile(`^0?[0-7]{3}$`)

// ParseListenMode parses listen_mode: permission bits in octal, as chmod
// takes them ("0660", "600"); no setuid, setgid or sticky bit. Connecting
// to a unix socket takes write permission, so the owner's is required.
func ParseListenMode(s string) (fs.FileMode, error) {
	if !octalMode.MatchString(s) {
		return 0, fmt.Errorf(`invalid mode %q: want permission bits in octal, such as "0660"`, s)
	}
	n, _ := strconv.ParseUint(s, 8, 32) // the pattern admits only what parses
	if n&0o200 == 0 {
		return 0, fmt.Errorf("mode %q would not let even the owner connect: connecting takes write permission", s)
	}
	return fs.FileMode(n), nil
}

// isLoopbackHost reports whether a listen host reaches this host only:
// an address of 127.0.0.0/8 or ::1, or the name localhost, which RFC 6761
// reserves for loopback (main checks the address it binds too). Other
// names are not resolved here, and "", 0.0.0.0 and :: are every address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// listenExposure checks who can reach a listener. A client tunnel
// presents this node's identity to its target on behalf of whoever
// connects to it, so beyond loopback it must say so; listen_mode only
// means something for a unix socket.
func (v *validator) listenExposure(i int) {
	t := &v.c.Tunnels[i]
	if v.given(i, "listen_mode") && v.ok(i, "listen_mode") {
		switch t.Listen.Network {
		case NetTCP:
			v.fail(i, "listen_mode", "only for a unix:/path listen address; %q is host:port (use a firewall)", t.Listen)
		case NetSystemd:
			v.fail(i, "listen_mode", "only for a unix:/path listen address; systemd creates %q: set SocketMode= in its socket unit",
				t.Listen)
		}
	}
	switch t.Mode {
	case ModeServer:
		if t.UnsafeListen {
			v.fail(i, "unsafe_listen", "only meaningful in client mode: a server tunnel authenticates whoever connects")
		}
	case ModeClient:
		if t.Listen.Network != NetTCP || t.UnsafeListen || !v.ok(i, "listen") {
			return
		}
		if host, _ := portOf(t.Listen); !isLoopbackHost(host) {
			unsafe := "unsafe_listen = true"
			if v.flags {
				unsafe = "--unsafe-listen"
			}
			v.fail(i, "listen", "%q is not a loopback address: a client tunnel lends this node's identity to anyone who connects to it; "+
				"listen on 127.0.0.1, [::1] or a unix:/path socket, or set %s if everyone who can reach it may act as this node",
				t.Listen, unsafe)
		}
	}
}
