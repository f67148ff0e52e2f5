//go:build !linux

package sock

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// errNotLinux: transparent mode rests on Linux's netfilter and socket options.
var errNotLinux = errors.New("transparent mode needs Linux")

// OriginalDst needs Linux's conntrack.
func OriginalDst(net.Conn) (netip.AddrPort, error) { return netip.AddrPort{}, errNotLinux }

// DialControl refuses a mark or IP_TRANSPARENT, which only Linux has.
func DialControl(mark uint32, transparent bool, unmarked func()) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error { return errNotLinux }
}

// ListenTransparent needs Linux's IP_TRANSPARENT.
func ListenTransparent(string) (net.Listener, error) { return nil, errNotLinux }
