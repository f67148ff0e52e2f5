package sock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// soOriginalDst is SO_ORIGINAL_DST (SOL_IP) and IP6T_SO_ORIGINAL_DST
// (SOL_IPV6): the destination a connection had before a NAT rule
// (REDIRECT) rewrote it, as conntrack remembers it.
const soOriginalDst = 80

// OriginalDst is the destination c was addressed to before a REDIRECT
// rule sent it here. Without a NAT rule it is c's own local address; with
// no conntrack entry it is an error.
func OriginalDst(c net.Conn) (netip.AddrPort, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("a %T has no original destination", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var ap netip.AddrPort
	var serr error
	cerr := raw.Control(func(fd uintptr) {
		if local, err := unix.Getsockname(int(fd)); err == nil {
			if _, v6 := local.(*unix.SockaddrInet6); v6 {
				// A struct sockaddr_in6, which IPv6MTUInfo begins with.
				mtu, err := unix.GetsockoptIPv6MTUInfo(int(fd), unix.SOL_IPV6, soOriginalDst)
				if err != nil {
					serr = fmt.Errorf("IP6T_SO_ORIGINAL_DST: %w", err)
					return
				}
				ap = netip.AddrPortFrom(netip.AddrFrom16(mtu.Addr.Addr).Unmap(), ntohs(mtu.Addr.Port))
				return
			}
		}
		mreq, err := unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, soOriginalDst)
		if err != nil {
			serr = fmt.Errorf("SO_ORIGINAL_DST: %w", err)
			return
		}
		// A struct sockaddr_in: family, port (network order), address.
		b := mreq.Multiaddr
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]}), uint16(b[2])<<8|uint16(b[3]))
	})
	if cerr != nil {
		return netip.AddrPort{}, cerr
	}
	return ap, serr
}

// ntohs turns a port as the kernel stores it in a sockaddr into a number.
func ntohs(p uint16) uint16 {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], p)
	return binary.BigEndian.Uint16(b[:])
}

// DialControl is a net.Dialer's Control that sets SO_MARK to mark (0: no
// mark) and, with transparent, IP_TRANSPARENT, which lets the socket bind
// to an address that is not this host's (the client's, for
// transparent_source). Both need CAP_NET_ADMIN. A mark refused for lack
// of it (EPERM) calls unmarked and the dial goes on without the mark;
// IP_TRANSPARENT refused fails the dial, which cannot go on without it.
func DialControl(mark uint32, transparent bool, unmarked func()) func(network, address string, c syscall.RawConn) error {
	return func(network, _ string, c syscall.RawConn) error {
		var err error
		cerr := c.Control(func(fd uintptr) {
			if mark != 0 {
				if err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, int(mark)); errors.Is(err, unix.EPERM) {
					unmarked()
					err = nil
				} else if err != nil {
					err = fmt.Errorf("set SO_MARK %#x: %w", mark, err)
					return
				}
			}
			if transparent {
				err = setTransparent(int(fd), network)
			}
		})
		if cerr != nil {
			return cerr
		}
		return err
	}
}

// setTransparent sets IP_TRANSPARENT (IPV6_TRANSPARENT on tcp6 sockets).
func setTransparent(fd int, network string) error {
	level, opt, name := unix.SOL_IP, unix.IP_TRANSPARENT, "IP_TRANSPARENT"
	if network == "tcp6" {
		level, opt, name = unix.SOL_IPV6, unix.IPV6_TRANSPARENT, "IPV6_TRANSPARENT"
	}
	if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	return nil
}

// ListenTransparent listens on addr with IP_TRANSPARENT, so that TPROXY
// rules may hand it connections addressed anywhere; it needs CAP_NET_ADMIN.
func ListenTransparent(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(network, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = setTransparent(int(fd), network) }); cerr != nil {
			return cerr
		}
		return err
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
