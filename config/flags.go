package config

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// BindFlags registers the flags of `passtunnel server` or `passtunnel client`
// on fs and returns a function that, after fs.Parse, builds and validates a
// one-tunnel Config named after the mode. The flags mirror the HCL names with
// dashes (tls.server_name is --server-name, limits.idle_timeout is
// --idle-timeout); each help text shows its default, so fs.PrintDefaults is
// the usage. No flag takes a secret itself, since a command line shows in
// `ps`: secrets come from a file or an environment variable.
// Errors read `flag --NAME: message` and come as Errors.
func (l Loader) BindFlags(fs *flag.FlagSet, mode Mode) func() (*Config, error) {
	f := &flagValues{env: l.Env, s: map[string]*string{}, b: map[string]*bool{}, l: map[string]*listFlag{}}
	f.register(fs, mode)
	return func() (*Config, error) { return f.build(fs, mode) }
}

// flagValues holds the registered flags by name.
type flagValues struct {
	env  *Environ
	s    map[string]*string
	b    map[string]*bool
	l    map[string]*listFlag
	prev []secretRef // --previous-passphrase-file and -env, in command-line order
}

func (f *flagValues) str(fs *flag.FlagSet, name, def, help string) {
	f.s[name] = fs.String(name, def, help)
}

func (f *flagValues) boolean(fs *flag.FlagSet, name, help string) {
	f.b[name] = fs.Bool(name, false, help)
}

// booleanOn registers a flag that is on unless given as -name=false.
func (f *flagValues) booleanOn(fs *flag.FlagSet, name, help string) {
	f.b[name] = fs.Bool(name, true, help)
}

func (f *flagValues) list(fs *flag.FlagSet, name string, comma bool, help string) {
	f.l[name] = &listFlag{comma: comma}
	fs.Var(f.l[name], name, help)
}

func (f *flagValues) register(fs *flag.FlagSet, mode Mode) {
	f.str(fs, "name", string(mode), "tunnel `NAME` in logs and metrics")
	f.str(fs, "listen", "", "`ADDR` to accept on: host:port, [ipv6]:port or unix:/path (required)")
	f.str(fs, "target", "", "`ADDR` to connect to: host:port, [ipv6]:port or unix:/path (required)")
	f.str(fs, "listen-mode", fmt.Sprintf("%04o", DefaultListenMode), "permission `MODE` (octal) of a unix:/path listen socket; "+
		"connecting takes write permission")
	f.boolean(fs, "unsafe-listen", "client: listen beyond loopback, lending this node's identity to anyone who connects")
	f.str(fs, "log-level", defaultLogLevel, "log `LEVEL`: debug, info, warn or error")
	f.str(fs, "log-format", defaultLogFormat, "log `FORMAT`: text or json")
	f.str(fs, "admin", "", "`ADDR` (host:port or unix:/path) to serve /metrics, /healthz and /readyz on; off by default")
	f.registerTLS(fs, mode)
	f.registerLimits(fs)
	f.registerProxyProtocol(fs)
	f.registerPassphrase(fs)
	for _, kind := range []string{"cn", "dns", "uri", "ou"} {
		f.list(fs, "allow-"+kind, false, "accept only peers whose certificate has this "+strings.ToUpper(kind)+
			" `PATTERN` (repeatable, OR'd; dns and uri take * and ** segments)")
	}
}

func (f *flagValues) registerTLS(fs *flag.FlagSet, mode Mode) {
	def := DefaultTLS(mode)
	f.str(fs, "cert", "", "certificate `FILE` (PEM); the key may sit in the same file")
	f.str(fs, "key", "", "private key `FILE` (PEM)")
	f.str(fs, "ca", "", "`FILE` of CA certificates (PEM) that the peer's certificate must chain to")
	f.str(fs, "client-auth", def.ClientAuth, "server: client certificates, `MODE` none, request or require")
	f.str(fs, "server-name", "", "client: `NAME` sent as SNI and required in the server certificate")
	f.list(fs, "pin", false, "accept only the peer leaf certificate with this SHA256:AB:CD:... `FINGERPRINT` (repeatable)")
	f.boolean(fs, "system-roots", "client: trust the operating system's CA store")
	f.boolean(fs, "insecure-skip-verify", "client: encrypt without verifying the server (debugging only)")
	f.boolean(fs, "self-signed", "server: make and keep a self-signed certificate in the state directory; its fingerprint is logged")
	f.str(fs, "min-version", def.MinVersion, "lowest TLS `VERSION`: 1.2 or 1.3")
	f.str(fs, "max-version", def.MaxVersion, "highest TLS `VERSION`: 1.2 or 1.3")
	f.list(fs, "cipher-suites", true, "comma-separated TLS 1.2 cipher suite `NAMES` (crypto/tls spelling)")
	f.list(fs, "curves", true, "comma-separated key exchange `NAMES`: "+CurveNames())
	f.list(fs, "alpn", true, "comma-separated ALPN `PROTOCOLS` to offer or accept")
	f.booleanOn(fs, "session-resumption", "resume TLS sessions (server: session tickets; client: a session cache); "+
		"-session-resumption=false makes every connection a full handshake")
	f.str(fs, "session-lifetime", def.SessionLifetime.String(), "server: accept a session ticket at most this long after it was issued (`DURATION`)")
}

func (f *flagValues) registerLimits(fs *flag.FlagSet) {
	def := DefaultLimits()
	f.str(fs, "max-connections", strconv.Itoa(def.MaxConnections), "open connections at most; the next one is refused at once (`N`)")
	f.str(fs, "accept-rate", "0", "new connections per second, 0 = unlimited; burst max(1, RATE) (`RATE`)")
	f.str(fs, "per-source-rate", "0", "new connections per second per client IP (IPv6 by /64), 0 = unlimited (`RATE`)")
	f.str(fs, "per-source-handshakes", strconv.Itoa(def.PerSourceHandshakes),
		"connections per client IP (IPv6 by /64) still in their handshake; the next one is refused at once, 0 = no limit (`N`)")
	f.str(fs, "handshake-timeout", def.HandshakeTimeout.String(), "bound on the TLS handshake (`DURATION`)")
	f.str(fs, "connect-timeout", def.ConnectTimeout.String(), "bound on dialing the target (`DURATION`)")
	f.str(fs, "idle-timeout", def.IdleTimeout.String(), "close a connection idle this long, 0 = never (`DURATION`)")
	f.str(fs, "max-lifetime", def.MaxLifetime.String(), "close a connection open this long, 0 = never (`DURATION`)")
	f.str(fs, "drain-timeout", def.DrainTimeout.String(), "on shutdown, wait this long for open connections (`DURATION`)")
}

func (f *flagValues) registerProxyProtocol(fs *flag.FlagSet) {
	f.str(fs, "proxy-protocol-accept", "none", "read a PROXY protocol header from trusted peers: `VERSION` none, v1, v2 or any")
	f.list(fs, "proxy-protocol-trusted", true, "`CIDR` allowed to send a PROXY header (repeatable or comma-separated); others are refused")
	f.str(fs, "proxy-protocol-send", "none", "write a PROXY protocol header to the target: `VERSION` none, v1 or v2")
	f.boolean(fs, "proxy-protocol-tls-tlvs", "with --proxy-protocol-send v2: add ALPN, SNI and TLS (version, client CN) TLVs")
}

func (f *flagValues) registerPassphrase(fs *flag.FlagSet) {
	f.str(fs, "passphrase-file", "", "read the cluster passphrase from `FILE`")
	f.str(fs, "passphrase-env", "", "read the cluster passphrase from environment `VARIABLE`")
	fs.Var(&refFlag{kind: "file", refs: &f.prev}, "previous-passphrase-file",
		"read a previous passphrase, still trusted during a rotation, from `FILE` (repeatable)")
	fs.Var(&refFlag{kind: "env", refs: &f.prev}, "previous-passphrase-env",
		"read a previous passphrase, still trusted during a rotation, from environment `VARIABLE` (repeatable)")
	f.str(fs, "cluster", defaultCluster, "cluster `NAME`, the salt of the passphrase derivation")
	f.boolean(fs, "allow-weak-passphrase", "accept a passphrase below the policy, with a warning")
	f.str(fs, "shared-secret-env", "", "read the channel-bound shared secret from environment `VARIABLE` (both ends passtunnel)")
}

// listFlag is a repeatable flag; with comma set, one value may also hold
// several entries separated by commas.
type listFlag struct {
	vals  []string
	comma bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

func (l *listFlag) Set(s string) error {
	if !l.comma {
		l.vals = append(l.vals, s)
		return nil
	}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			l.vals = append(l.vals, p)
		}
	}
	return nil
}

// secretRef names where one secret is: kind "file" (a path) or "env" (a
// variable). The flags hold only this, never the secret.
type secretRef struct{ kind, where string }

// refFlag is a repeatable flag adding secretRefs of one kind to a list that
// the flag of the other kind shares, so the list keeps command-line order
// across both.
type refFlag struct {
	kind string
	refs *[]secretRef
}

// String shows the paths or variable names given, never a secret.
func (r *refFlag) String() string {
	if r == nil || r.refs == nil {
		return ""
	}
	var out []string
	for _, ref := range *r.refs {
		if ref.kind == r.kind {
			out = append(out, ref.where)
		}
	}
	return strings.Join(out, ",")
}

func (r *refFlag) Set(s string) error {
	*r.refs = append(*r.refs, secretRef{kind: r.kind, where: s})
	return nil
}
