package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Mode says which side of the tunnel carries TLS.
type Mode string

const (
	// ModeServer terminates TLS on Listen and dials Target in cleartext.
	ModeServer Mode = "server"
	// ModeClient accepts cleartext on Listen and dials Target with TLS.
	ModeClient Mode = "client"
)

// Network of an Address: "tcp" for host:port (IPv4 or IPv6), "unix" for a
// socket path.
type Network string

const (
	NetTCP  Network = "tcp"
	NetUnix Network = "unix"
)

// Address is a listen or target address.
type Address struct {
	Network Network
	// Addr is "host:port" for tcp and the socket path for unix.
	Addr string
}

// String gives the address back in the form the user writes it.
func (a Address) String() string {
	switch a.Network {
	case NetTCP, "":
		return a.Addr
	}
	return string(a.Network) + ":" + a.Addr // "unix:/path", or the caller's label of a Listener
}

// DefaultListenMode is the mode of a unix listen socket whose ListenMode
// is 0, and of the sockets ListenAddress binds.
const DefaultListenMode fs.FileMode = 0o660

// Limits bound what a tunnel spends on its peers. Its fields are those of
// the config's limits, field for field, so that the caller converts one
// into the other (Limits(l)) and a new limit needs no mapping.
type Limits struct {
	MaxConnections int
	AcceptRate     float64
	PerSourceRate  float64
	// PerSourceHandshakes bounds the connections from one client address
	// (an IPv6 /64) admitted and still in their handshake; 0 = no limit.
	PerSourceHandshakes int
	HandshakeTimeout    time.Duration
	ConnectTimeout      time.Duration
	IdleTimeout         time.Duration // 0 = none
	MaxLifetime         time.Duration // 0 = none
	DrainTimeout        time.Duration
	// CloseTimeout bounds the direction still open once the other ended
	// (half-close); WriteTimeout a write that makes no progress. 0 = none.
	CloseTimeout time.Duration
	WriteTimeout time.Duration
	// MaxHandshakes bounds the handshakes computing at once; the others
	// wait in accept order (handshake_gate.go). 0 = 32 per CPU, at least 64.
	MaxHandshakes int
}

// ProxyProtocol are the PROXY protocol settings, field for field those of
// the config's proxy_protocol block (see Limits).
type ProxyProtocol struct {
	Accept  string // none | v1 | v2 | any
	Trusted []string
	Send    string // none | v1 | v2
	TLSTLVs bool
}

// Options describe one tunnel.
type Options struct {
	Name string
	// Mode server: TLS in, cleartext out. Mode client: cleartext in, TLS out.
	Mode Mode
	// Listen is tcp host:port (port 0 picks one; see Tunnel.Addr) or a unix path.
	Listen Address
	// ListenMode is the mode of a unix Listen socket, exactly, whatever the
	// umask; 0 means DefaultListenMode.
	ListenMode fs.FileMode
	// Listener, if set, is a socket already bound (one a service manager
	// passed the process, say) that the tunnel serves instead of binding
	// Listen, which then only names it: any Network goes, and ListenMode
	// does not apply. Listen (or ListenGroupOn) takes it over: the tunnel's
	// Close closes it, and so does a failed Listen.
	Listener net.Listener
	Target   Address
	// Targets, when set, are the addresses to dial instead of Target, in
	// the order Balance says (see targets.go); "" balances as failover.
	Targets []Address
	Balance Balance
	// TargetCheck, when more than 0, dials every target this often to tell
	// whether it is up, with nobody waiting on it (targets_check.go).
	TargetCheck time.Duration
	// ConnectProxy, in client mode, is the HTTP proxy every target is
	// reached through (connect_proxy.go); the zero value dials directly.
	ConnectProxy ConnectProxy
	Limits       Limits
	// Descriptors is the process's descriptor budget, which every
	// connection takes from before it is handled (see DescriptorBudget);
	// nil: none. The tunnels of a process share one.
	Descriptors *DescriptorBudget
	// ProxyProtocol is read from trusted peers before anything else
	// (Accept) and written to the target before any other byte (Send).
	ProxyProtocol ProxyProtocol
	// Transparent: original destinations instead of Target, the mark and
	// transparent_source (transparent.go).
	Transparent Transparent
	// TLS is the terminating config in server mode and the dialing config
	// (ServerName already set) in client mode.
	TLS *tls.Config
	// HandshakeConfig, if set, is the config one handshake runs with, made
	// from TLS when the handshake starts (for a client tunnel, one bound to
	// the certificate current now, which its session ticket will prove).
	// nil: TLS itself.
	HandshakeConfig func(*tls.Config) *tls.Config
	// ConnWarning, if set, is logged at WARN on every connection (for
	// example when the target's certificate is not verified).
	ConnWarning string
	// HandshakeHint, if set, is added to handshake failures about
	// certificates: what the operator should compare on both ends (for a
	// passphrase tunnel, the passphrase and the cluster).
	HandshakeHint string
	// Peer is the verdict on a finished handshake: the certificate the
	// tunnel's verification accepted (pki's Endpoint.Peer), nil when the
	// peer is not verified (it showed none and need not, or the tunnel
	// verifies nothing). It is the only source of the peer's identity: the
	// closing line's peer_subject, the PROXY v2 TLVs and AfterHandshake
	// read what it returns, never the certificates the peer sent. Its
	// error fails the handshake, unless it is an Answered one: the
	// handshake was the whole exchange, and the connection closes with the
	// error's reason, neither failed nor carried to the target. nil: the
	// leaf of the chain crypto/tls verified itself, if it did (see
	// verifiedByTLS).
	Peer func(tls.ConnectionState) (*x509.Certificate, error)
	// AfterHandshake (the shared-secret proof) runs after each handshake
	// and its verdict, within handshake_timeout, before any application
	// byte or dial, with the verified peer (nil: none). Its error is a
	// handshake failure, counted by its HandshakeReason().
	AfterHandshake func(tc *tls.Conn, peer *x509.Certificate) error
	// MaxHandshakeBytes bounds what the TLS peer may send before its
	// handshake completes (0: DefaultMaxHandshakeBytes).
	MaxHandshakeBytes int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// ServerNames (exact, or "*." and a name standing for one label) and
	// SNIDefault pick this tunnel among those of a Group by the SNI of the
	// ClientHello (see Group.Join); Listen ignores them.
	ServerNames []string
	SNIDefault  bool

	trusted []netip.Prefix // ProxyProtocol.Trusted, parsed by validate
	hsSlots int            // Limits.MaxHandshakes resolved by validate (see handshakeSlots)
	// targets are the targets bound to the tunnel's state of them (see
	// targetTable.use); resolver resolves their names (nil: the default).
	targets  *targetList
	resolver *net.Resolver
}

// validate checks opts and fills in defaults; Listen and Update call it.
func validate(o *Options) error {
	if o.Mode != ModeServer && o.Mode != ModeClient {
		return fmt.Errorf("unknown mode %q", o.Mode)
	}
	if o.TLS == nil {
		return errors.New("no TLS config")
	}
	if err := validateTargets(o); err != nil {
		return err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.hsSlots = handshakeSlots(o.Limits.MaxHandshakes)
	return validateProxyProtocol(o)
}

// validateProxyProtocol checks what the caller's config may have validated
// already, and parses the trusted CIDRs once.
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
