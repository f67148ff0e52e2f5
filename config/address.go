package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ParseAddress parses a listen or target address: `host:port` (IPv6 in
// brackets) or `unix:/path`. An empty host means every interface; whether
// that is acceptable is for the caller (targets need a host).
func ParseAddress(s string) (Address, error) {
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		if path == "" {
			return Address{}, fmt.Errorf("invalid address %q: empty socket path", s)
		}
		return Address{Network: NetUnix, Addr: path}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if looksIPv6(s) {
			return Address{}, fmt.Errorf("invalid address %q: an IPv6 address needs brackets and a port, like \"[::1]:443\"", s)
		}
		return Address{}, fmt.Errorf("invalid address %q: want host:port or unix:/path", s)
	}
	if err := checkHost(host, strings.HasPrefix(s, "[")); err != nil {
		return Address{}, fmt.Errorf("invalid address %q: %w", s, err)
	}
	n, err := parsePort(port)
	if err != nil {
		return Address{}, fmt.Errorf("invalid address %q: %w", s, err)
	}
	return Address{Network: NetTCP, Addr: net.JoinHostPort(host, strconv.Itoa(n))}, nil
}

// fdName is a name systemd can give a passed socket: a socket unit's
// FileDescriptorName= (at most 255 characters, no colon) or, by default,
// the socket unit's own name.
var fdName = regexp.MustCompile(`^[A-Za-z0-9._@\-]{1,255}$`)

// ParseListenAddress parses a listen address: what ParseAddress takes, or
// `systemd:NAME`, a socket systemd passes the process (socket activation).
func ParseListenAddress(s string) (Address, error) {
	name, ok := strings.CutPrefix(s, "systemd:")
	if !ok {
		return ParseAddress(s)
	}
	if !fdName.MatchString(name) {
		return Address{}, fmt.Errorf("invalid address %q: want systemd:NAME, NAME the socket unit's FileDescriptorName= "+
			"(letters, digits, '.', '_', '-', '@')", s)
	}
	return Address{Network: NetSystemd, Addr: name}, nil
}

// looksIPv6 spots an IPv6 address written without brackets, with or
// without a port after it.
func looksIPv6(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil && strings.Contains(s, ":") {
		return true
	}
	i := strings.LastIndexByte(s, ':')
	a, err := netip.ParseAddr(s[:max(i, 0)])
	return err == nil && a.Is6()
}

func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 || strings.TrimLeft(p, "0123456789") != "" {
		return 0, fmt.Errorf("port must be a number from 0 to 65535")
	}
	return n, nil
}

func checkHost(host string, bracketed bool) error {
	if bracketed {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return fmt.Errorf("brackets are only for IPv6 addresses")
		}
		return nil
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if len(host) > 253 || strings.TrimLeft(strings.ToLower(host), "abcdefghijklmnopqrstuvwxyz0123456789-._") != "" {
		return fmt.Errorf("invalid host name %q", host)
	}
	return nil
}

// portOf returns the port of a tcp Address (always valid once parsed).
func portOf(a Address) (string, int) {
	host, port, _ := net.SplitHostPort(a.Addr)
	n, _ := strconv.Atoi(port)
	return host, n
}

// overlaps reports whether two listen addresses would fight over one socket,
// as the kernel sees it: "0.0.0.0:80" takes every IPv4 address on port 80,
// and "[::]:80" (or ":80") is dual-stack in Go and takes everything. Port 0
// asks for a fresh port, so it never overlaps.
func overlaps(a, b Address) bool {
	if a.Network != b.Network || a.Network == "" {
		return false
	}
	switch a.Network {
	case NetUnix:
		return filepath.Clean(a.Addr) == filepath.Clean(b.Addr)
	case NetSystemd:
		return a.Addr == b.Addr
	}
	ha, pa := portOf(a)
	hb, pb := portOf(b)
	if pa != pb || pa == 0 {
		return false
	}
	sa, sb := hostSpan(ha), hostSpan(hb)
	switch {
	case sa.all || sb.all:
		return true
	case sa.all4 && (sb.all4 || sb.has4()):
		return true
	case sb.all4 && sa.has4():
		return true
	case sa.name != "" || sb.name != "":
		return sa.name == sb.name
	}
	for _, x := range sa.ips {
		for _, y := range sb.ips {
			if x == y {
				return true
			}
		}
	}
	return false
}

// span is the set of local addresses a listen host covers.
type span struct {
	all  bool         // "" or "::": every address, both families
	all4 bool         // "0.0.0.0": every IPv4 address
	ips  []netip.Addr // specific addresses
	name string       // a host name other than localhost, lower case
}

func (s span) has4() bool {
	for _, ip := range s.ips {
		if ip.Is4() {
			return true
		}
	}
	return false
}

func hostSpan(host string) span {
	if host == "" {
		return span{all: true}
	}
	if strings.EqualFold(host, "localhost") {
		return span{ips: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return span{name: strings.ToLower(host)}
	}
	ip = ip.Unmap()
	switch {
	case ip.Is6() && ip.IsUnspecified():
		return span{all: true}
	case ip.IsUnspecified():
		return span{all4: true}
	}
	return span{ips: []netip.Addr{ip}}
}
