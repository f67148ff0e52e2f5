package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"

	"github.com/passtunnel/passtunnel/config"
)

// validate checks opts and fills in defaults; Listen and Update call it.
func validate(o *Options) error {
	if o.Mode != config.ModeServer && o.Mode != config.ModeClient {
		return fmt.Errorf("unknown mode %q", o.Mode)
	}
	if o.TLS == nil {
		return errors.New("no TLS config")
	}
	for _, a := range []config.Address{o.Listen, o.Target} {
		if a.Network != config.NetTCP && a.Network != config.NetUnix {
			return fmt.Errorf("address %q: unknown network %q", a.Addr, a.Network)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return validateProxyProtocol(o)
}

// validateProxyProtocol checks what config has validated already, for
// callers that build Options by hand, and parses the trusted CIDRs once.
func validateProxyProtocol(o *Options) error {
	p := o.ProxyProtocol
	if !slices.Contains([]string{"", "none", "v1", "v2", "any"}, p.Accept) {
		return fmt.Errorf("proxy_protocol.accept: unknown value %q", p.Accept)
	}
	if !slices.Contains([]string{"", "none", "v1", "v2"}, p.Send) {
		return fmt.Errorf("proxy_protocol.send: unknown value %q", p.Send)
	}
	if p.TLSTLVs && p.Send != "v2" {
		return fmt.Errorf("proxy_protocol.tls_tlvs: needs send = \"v2\", not %q", p.Send)
	}
	trusted, err := parseTrusted(p.Trusted)
	if err != nil {
		return err
	}
	o.trusted = trusted
	return nil
}

// acceptsHeader reports whether o reads a PROXY header from its peers.
func acceptsHeader(o *Options) bool {
	return o.ProxyProtocol.Accept != "" && o.ProxyProtocol.Accept != "none"
}

// sendsHeader is the PROXY version o writes to the target, 0 for none.
func sendsHeader(o *Options) byte {
	switch o.ProxyProtocol.Send {
	case "v1":
		return 1
	case "v2":
		return 2
	}
	return 0
}

// parseTrusted turns proxy_protocol.trusted into prefixes; a bare address
// is a prefix of one.
func parseTrusted(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("proxy_protocol.trusted: invalid CIDR %q: %w", s, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// trusts reports whether the peer at a may send a PROXY header. Unix-socket
// peers are local processes that the socket file's permissions admitted.
func (o *Options) trusts(a net.Addr) bool {
	switch a := a.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			return false
		}
		ip = ip.Unmap().WithZone("")
		for _, p := range o.trusted {
			if p.Contains(ip) {
				return true
			}
		}
	}
	return false
}
