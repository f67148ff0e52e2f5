package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/passtunnel/passtunnel/proxy/internal/sock"
)

// Transparent are the settings of transparent mode: a client tunnel that
// dials each connection's original destination (Mode), and the socket
// options of any tunnel's dials (Mark, Source).
type Transparent struct {
	// Mode "redirect": connections come through a REDIRECT rule and
	// SO_ORIGINAL_DST names their destination; "tproxy": through a TPROXY
	// rule onto an IP_TRANSPARENT listener, and their local address is
	// the destination. "" or "none": Target is dialled.
	Mode string
	// PortMap maps the original port to the port dialled there (the
	// peer's server tunnel); a port not in it is refused.
	PortMap map[uint16]uint16
	// Destinations bound what may be dialled; anything else is refused.
	Destinations []Destination
	// Mark, if not 0, is the SO_MARK of every socket the tunnel dials, so
	// that the redirect rules let them pass. Without CAP_NET_ADMIN the
	// tunnel logs that once and dials unmarked.
	Mark uint32
	// Source: a server tunnel dials its target from the client's address
	// (IP_TRANSPARENT, CAP_NET_ADMIN), so that the daemon sees the client.
	Source bool
}

// Destination is one allowed original destination: a prefix, and a port
// (0: any).
type Destination struct {
	Prefix netip.Prefix
	Port   uint16
}

// Close reasons of transparent mode.
const (
	reasonNotRedirected  = "not_redirected"
	reasonDestNotAllowed = "destination_not_allowed"
	reasonPortNotMapped  = "port_not_mapped"
)

// on reports whether the tunnel dials original destinations.
func (tr *Transparent) on() bool { return tr.Mode == "redirect" || tr.Mode == "tproxy" }

// listenFor binds the tunnel's listen address: IP_TRANSPARENT for a
// tproxy tunnel, which receives connections addressed to other hosts.
func listenFor(o *Options) (net.Listener, error) {
	if o.Listener != nil {
		return o.Listener, nil
	}
	if o.Transparent.Mode == "tproxy" {
		return sock.ListenTransparent(o.Listen.Addr)
	}
	return listen(o.Listen, o.ListenMode)
}

// originalTarget is where a transparent tunnel dials for this connection:
// its original destination's address on the port PortMap gives. ok is
// false when the connection is refused (res says why), without a dial.
func (c *conn) originalTarget(peer string) (target Address, res outcome, ok bool) {
	tr := &c.opts.Transparent
	orig, err := c.originalDst()
	listening := addrPortOf(c.t.Addr())
	var reason string
	var mapped uint16
	switch {
	case err != nil:
		reason = reasonNotRedirected
	case orig == listening || !orig.IsValid():
		reason = reasonNotRedirected
		err = errors.New("the connection came to the listen address itself, not through a redirect rule")
	case !allowed(tr.Destinations, orig):
		reason = reasonDestNotAllowed
		err = fmt.Errorf("original destination %s is not in destinations", orig)
	default:
		var found bool
		if mapped, found = tr.PortMap[orig.Port()]; !found {
			reason = reasonPortNotMapped
			err = fmt.Errorf("original destination %s: port %d is not in port_map", orig, orig.Port())
		}
	}
	if reason != "" {
		c.t.stats.refuse(reason)
		c.t.warn.Warn("connection refused", "peer", peer, "original_destination", addrPortString(orig), "reason", reason, "error", err)
		return Address{}, outcome{reason: reason, err: err}, false
	}
	addr := net.JoinHostPort(orig.Addr().String(), strconv.Itoa(int(mapped)))
	return Address{Network: NetTCP, Addr: addr}, outcome{}, true
}

// originalDst is the destination the connection was addressed to.
func (c *conn) originalDst() (netip.AddrPort, error) {
	if c.opts.Transparent.Mode == "tproxy" {
		return addrPortOf(c.peer.LocalAddr()), nil
	}
	return sock.OriginalDst(c.peer)
}

func allowed(ds []Destination, a netip.AddrPort) bool {
	for _, d := range ds {
		if d.Prefix.Contains(a.Addr()) && (d.Port == 0 || d.Port == a.Port()) {
			return true
		}
	}
	return false
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

func addrPortString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// dialer is the dialer of the tunnel's target connections: with the mark
// (until the kernel refuses it once) and, for transparent_source, bound to
// the client's address.
func (c *conn) dialer(timeout time.Duration) net.Dialer {
	d := net.Dialer{Timeout: timeout}
	tr := &c.opts.Transparent
	mark := tr.Mark
	if c.t.markDenied.Load() {
		mark = 0
	}
	source := tr.Source && c.opts.Mode == ModeServer
	if source {
		if ap := addrPortOf(c.remote); ap.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: ap.Addr().AsSlice()}
		}
	}
	if mark == 0 && !source {
		return d
	}
	// Without CAP_NET_ADMIN the dial goes on unmarked: the rules' own
	// exemptions (local destinations, tunnel ports apart from redirected
	// ones) keep passtunnel's connections out of the redirect.
	d.Control = sock.DialControl(mark, source, func() {
		if c.t.markDenied.CompareAndSwap(false, true) {
			c.t.log.Info("dialing without a mark: setting SO_MARK needs CAP_NET_ADMIN", "mark", fmt.Sprintf("%#x", mark))
		}
	})
	return d
}
