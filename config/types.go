// Package config decodes, defaults and validates passtunnel's HCL file into
// plain Go structs. It imports no other package of the project: pki and proxy
// consume these structs, and main wires them together.
//
// Every setting is declared once, in its block's table (fields_*.go, beside
// the block's struct; table.go says what an entry holds): the HCL schema,
// decoding, the default, the flag of `passtunnel server|client`, simple
// range checks and the README's reference rows all come from the entry.
package config

import (
	"io/fs"
	"strconv"
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
// socket path, "systemd" for a listen socket systemd passes by name.
type Network string

const (
	NetTCP  Network = "tcp"
	NetUnix Network = "unix"
	// NetSystemd is a listen address only: Addr is the name systemd gives
	// the socket (the socket unit's FileDescriptorName=).
	NetSystemd Network = "systemd"
)

// Address is a parsed listen or target address.
type Address struct {
	Network Network
	// Addr is "host:port" for tcp, the socket path for unix and the
	// socket's name for systemd.
	Addr string
}

// String gives the address back in the form the user writes it.
func (a Address) String() string {
	switch a.Network {
	case NetUnix:
		return "unix:" + a.Addr
	case NetSystemd:
		return "systemd:" + a.Addr
	}
	return a.Addr
}

// Pos is a position in a config file, kept so that later checks (for example
// in pki when a certificate file does not load) can still name file:line:col.
type Pos struct {
	File   string
	Line   int
	Column int
	// Flag is set instead of File for values given on the command line.
	Flag string
}

// String renders file:line:col, or "flag --name" for a command-line value.
func (p Pos) String() string {
	if p.Flag != "" {
		return "flag --" + p.Flag
	}
	if p.File == "" {
		return ""
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// Config is a whole passtunnel file.
type Config struct {
	// File is the path the config was read from ("" for flag-built configs).
	File      string
	LogLevel  string // debug | info | warn | error
	LogFormat string // text | json
	Admin     *Address
	Tunnels   []Tunnel
	// Fields holds where each given top-level setting was set, keyed by its
	// HCL name ("log_level", "admin"), like Tunnel.Fields.
	Fields map[string]Pos
	// Files lists every file a file() call read (passphrases, secrets),
	// relative to the config's directory as given: the config depends on
	// their content, so a reload watches them too.
	Files []string
}

// Tunnel is one listen -> target pair and everything that governs it.
type Tunnel struct {
	Name string
	Pos  Pos // where the tunnel block starts
	// Fields holds where each given field was set, keyed by its HCL path
	// ("listen", "tls.cert", "limits.handshake_timeout").
	Fields map[string]Pos
	Mode   Mode
	Listen Address
	// Targets are the addresses to connect to, in the order given (one
	// string is a list of one); Balance picks among them (see targets.go).
	Targets []Address
	// Target is the first of Targets, for code that needs one address.
	Target  Address
	Balance string // failover | round_robin | random
	// TargetCheck is how often each target is dialled to tell whether it
	// is up (target_check); 0 = never.
	TargetCheck time.Duration
	// ListenMode is the permission of a unix listen socket (default
	// DefaultListenMode); unused with a host:port listen.
	ListenMode fs.FileMode
	// UnsafeListen lets a client tunnel listen beyond loopback, where
	// anyone who connects borrows this node's identity.
	UnsafeListen bool
	// ServerNames are the SNI names (exact, or "*." and one label) that
	// route a handshake to this server tunnel on a listen address other
	// tunnels may share; SNIDefault takes the names no tunnel has.
	ServerNames []string
	SNIDefault  bool

	// Passphrase and SharedSecret hold secret material: never log or print them.
	Passphrase          Secret
	PreviousPassphrases []Secret
	Cluster             string
	AllowWeakPassphrase bool
	SharedSecret        Secret
	// ConnectProxy, on a client tunnel, is the URL of the HTTP proxy its
	// targets are reached through (connect_proxy.go); it may hold
	// credentials, so it is a Secret.
	ConnectProxy Secret

	TLS           *TLS  // nil when the block is absent
	ACME          *ACME // nil when the block is absent
	Allow         Allow
	Deny          Deny // deny { } (fields_verify.go)
	Limits        Limits
	ProxyProtocol ProxyProtocol
	Transparent   Transparent // transparent mode (fields_transparent.go)

	SPIFFE *SPIFFE // nil when the block is absent (fields_spiffe.go)
}

// Where names the place a field was set ("file:line:col" or "flag --x"),
// falling back to the tunnel block itself when the field was defaulted.
func (t *Tunnel) Where(field string) string {
	if p, ok := t.Fields[field]; ok {
		return p.String()
	}
	return t.Pos.String()
}

// Secret is a string that must not be printed. Its String and GoString
// methods redact it so that a stray %v in a log line cannot leak it.
type Secret struct {
	value string
	// Source says where it came from without saying what it is, e.g.
	// `file("/run/secrets/p")` or `env("PASSTUNNEL_PASSPHRASE")`.
	Source string
}

// NewSecret wraps a secret value.
func NewSecret(value, source string) Secret { return Secret{value: value, Source: source} }

// Reveal returns the secret itself, for the code that derives keys from it.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether a secret was given.
func (s Secret) IsSet() bool { return s.value != "" }

func (s Secret) String() string   { return "[redacted]" }
func (s Secret) GoString() string { return "[redacted]" }
