package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// forwardFlag re-executes the harness as the control of the transparent
// measurement: a plain Go TCP forwarder (accept, dial, io.Copy both ways),
// inside the client host's namespace, explicit or fed by the same kind of
// redirect as passtunnel's transparent tunnel. What it pays for a
// redirected connection over an explicit one is what any proxy pays.
const forwardFlag = "-forward"

// readWriteBuf is the buffer of -readwrite: passtunnel's bulk buffer.
const readWriteBuf = 64 << 10

// soOriginalDst is SO_ORIGINAL_DST (linux/netfilter_ipv4.h), which the
// syscall package lacks.
const soOriginalDst = 80

// runForward is the forwarder's main: it listens on -listen, prints its
// address, forwards every connection to -to, or with -original-port to the
// connection's original destination at that port, and exits when its stdin
// closes (the harness is gone). Its dials carry -mark, so that the rules
// that redirect the destination let them through.
func runForward(args []string) {
	fs := flag.NewFlagSet("forward", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "`ADDR` to accept on")
	to := fs.String("to", "", "explicit: the `ADDR` every connection goes to")
	origPort := fs.Int("original-port", 0, "transparent: go to each connection's original destination (SO_ORIGINAL_DST) at `PORT`")
	mark := fs.Int("mark", 0, "SO_MARK of the dialed connections (needs CAP_NET_ADMIN)")
	readWrite := fs.Bool("readwrite", false, "copy with read and write through a buffer, as a TLS proxy must, "+
		"instead of io.Copy's splice between the sockets")
	fs.Parse(args)
	if (*to == "") == (*origPort == 0) {
		fmt.Fprintln(os.Stderr, "forward: want one of -to and -original-port")
		os.Exit(2)
	}
	target := func(*net.TCPConn) (string, error) { return *to, nil }
	if *origPort != 0 {
		target = func(c *net.TCPConn) (string, error) {
			dst, err := originalDst(c)
			if err != nil {
				return "", fmt.Errorf("SO_ORIGINAL_DST: %w", err)
			}
			fmt.Fprintf(os.Stderr, "forward: %s: original destination %s\n", c.RemoteAddr(), dst)
			return net.JoinHostPort(dst.Addr().String(), strconv.Itoa(*origPort)), nil
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forward:", err)
		os.Exit(1)
	}
	d := markedDialer(*mark)
	go acceptLoop(ln, func(c net.Conn) {
		if err := forwardConn(c.(*net.TCPConn), target, d, *readWrite); err != nil {
			fmt.Fprintf(os.Stderr, "forward: %s: %v\n", c.RemoteAddr(), err)
		}
	})
	fmt.Println(ln.Addr().String())
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// forwardConn dials down's target and copies both ways until both sides
// are done, passing each half-close on. io.Copy between two TCP sockets
// splices (the bytes never enter the process); with readWrite it reads
// them into a buffer and writes them out.
func forwardConn(down *net.TCPConn, target func(*net.TCPConn) (string, error), d *net.Dialer, readWrite bool) error {
	addr, err := target(down)
	if err != nil {
		return err
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	up := c.(*net.TCPConn)
	defer up.Close()
	errs := make(chan error, 2)
	pipe := func(dst, src *net.TCPConn) {
		var err error
		if readWrite {
			// Hiding ReadFrom and WriteTo keeps io.Copy from splicing.
			_, err = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, readWriteBuf))
		} else {
			_, err = io.Copy(dst, src)
		}
		dst.CloseWrite()
		errs <- err
	}
	go pipe(up, down)
	go pipe(down, up)
	var first error
	for range 2 {
		if err := <-errs; err != nil && first == nil {
			// The other direction may wait forever on a peer gone.
			first = err
			down.Close()
			up.Close()
		}
	}
	return first
}

// markedDialer is a dialer whose sockets carry SO_MARK mark (none if 0).
func markedDialer(mark int) *net.Dialer {
	d := &net.Dialer{Timeout: ioBound}
	if mark == 0 {
		return d
	}
	d.Control = func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, mark)
		}); err != nil {
			return err
		}
		return serr
	}
	return d
}

// originalDst is the destination c had before a REDIRECT (IPv4 only).
func originalDst(c *net.TCPConn) (netip.AddrPort, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	// The kernel writes a struct sockaddr_in (16 bytes); IPv6Mreq is the
	// syscall package's getter of a buffer at least that large.
	var sa *syscall.IPv6Mreq
	var serr error
	if err := rc.Control(func(fd uintptr) {
		sa, serr = syscall.GetsockoptIPv6Mreq(int(fd), syscall.IPPROTO_IP, soOriginalDst)
	}); err != nil {
		return netip.AddrPort{}, err
	}
	if serr != nil {
		return netip.AddrPort{}, serr
	}
	b := sa.Multiaddr // family (2 bytes, host order), port (2, network order), address (4)
	if binary.NativeEndian.Uint16(b[0:2]) != syscall.AF_INET {
		return netip.AddrPort{}, errors.New("not an IPv4 address")
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4])), nil
}

// The controls: plain Go forwarders, each measured explicit and transparent
// beside passtunnel's client tunnels.
const (
	fwdGoPlain     = "go-plain"     // io.Copy, which splices
	fwdGoReadWrite = "go-readwrite" // read and write, as passtunnel does
)

const (
	controlPort   = "2553"
	controlDaemon = hostBIP + ":" + controlPort // the echo again in b, in cleartext: every control's target
	controlMark   = 0x7074                      // config.DefaultMark, which passtunnel's rules let through
)

// control is one control forwarder and its addresses in a.
type control struct {
	name     string
	flags    []string // how it copies
	explicit string   // the explicit one's listen address
	port     string   // the port of b's address the load dials to reach the transparent one, redirected to it
	redirect string   // the transparent one's listen port
}

var controls = []control{
	{fwdGoPlain, nil, "127.0.0.1:12554", controlPort, "15002"},
	{fwdGoReadWrite, []string{"-readwrite"}, "127.0.0.1:12555", "2554", "15003"},
}

// addr is the address the load dials for the control in mode.
func (c control) addr(mode string) string {
	if mode == modeExplicit {
		return c.explicit
	}
	return hostBIP + ":" + c.port
}

// nftCmd adds the transparent one's redirect to the chain of passtunnel's
// rules, after their exemptions (the mark among them).
func (c control) nftCmd() []string {
	return []string{"nft", "add", "rule", "inet", "passtunnel", "out_redirect",
		"ip", "daddr", hostBIP, "tcp", "dport", c.port, "redirect", "to", ":" + c.redirect}
}

// startControls starts every control in a, a process per mode: explicit
// to the control daemon, transparent to each connection's original
// destination at the control daemon's port. Both mark their dials: the
// daemon's port is redirected for every other connection from a.
func (h *harness) startControls(s *transparentSetup) error {
	for _, c := range controls {
		for _, mode := range []string{modeExplicit, modeTransparent} {
			args := append([]string{forwardFlag, "-mark", strconv.Itoa(controlMark)}, c.flags...)
			if mode == modeExplicit {
				args = append(args, "-listen", c.explicit, "-to", controlDaemon)
			} else {
				args = append(args, "-listen", "127.0.0.1:"+c.redirect, "-original-port", controlPort)
			}
			h.seq++
			row := tpRow(c.name, mode)
			logPath := filepath.Join(h.dir, "logs", fmt.Sprintf("%03d-transparent-%s-%s.log", h.seq, c.name, mode))
			p, _, err := h.startHelper(s.a, row, logPath, args...)
			if err != nil {
				return err
			}
			s.procs = append(s.procs, p)
			s.fwd[row], s.addrs[row] = p, c.addr(mode)
		}
	}
	return nil
}
