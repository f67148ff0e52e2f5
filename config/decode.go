package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Each block's schema lists its attribute names once; the decode functions
// below read the same names, and the full-config test covers every one.
var (
	tunnelSchema = &hcl.BodySchema{
		Attributes: attrs("mode", "listen", "target", "passphrase", "previous_passphrases",
			"cluster", "allow_weak_passphrase", "shared_secret", "listen_mode", "unsafe_listen"),
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "tls"}, {Type: "acme"}, {Type: "allow"}, {Type: "limits"}, {Type: "proxy_protocol"},
		},
	}
	tlsSchema = &hcl.BodySchema{Attributes: attrs("cert", "key", "ca", "client_auth", "server_name",
		"pin", "system_roots", "insecure_skip_verify", "self_signed", "min_version", "max_version",
		"cipher_suites", "curves", "alpn", "session_resumption", "session_lifetime")}
	acmeSchema   = &hcl.BodySchema{Attributes: attrs("domains", "email", "ca", "storage", "trusted_roots")}
	allowSchema  = &hcl.BodySchema{Attributes: attrs("cn", "dns", "uri", "ou")}
	limitsSchema = &hcl.BodySchema{Attributes: attrs("max_connections", "accept_rate", "per_source_rate",
		"per_source_handshakes", "handshake_timeout", "connect_timeout", "idle_timeout", "max_lifetime", "drain_timeout")}
	proxyProtocolSchema = &hcl.BodySchema{Attributes: attrs("accept", "trusted", "send", "tls_tlvs")}
)

// newTunnel is a tunnel with every default filled in.
func newTunnel(name string, mode Mode) Tunnel {
	return Tunnel{
		Name:          name,
		Mode:          mode,
		Fields:        map[string]Pos{},
		Cluster:       defaultCluster,
		ListenMode:    DefaultListenMode,
		Limits:        DefaultLimits(),
		ProxyProtocol: ProxyProtocol{Accept: "none", Send: "none"},
	}
}

// DefaultTLS is the tls block of a tunnel of this mode with every field left
// out; consumers use it when Tunnel.TLS is nil.
func DefaultTLS(mode Mode) *TLS {
	t := &TLS{MinVersion: "1.2", MaxVersion: "1.3", SessionLifetime: DefaultSessionLifetime}
	if mode == ModeServer {
		t.ClientAuth = "require"
	}
	return t
}

func (d *decoder) tunnel(idx int, b *hcl.Block) Tunnel {
	t := newTunnel(b.Labels[0], "")
	t.Pos = hclPos(d.file, b.DefRange.Start)
	content, diags := b.Body.Content(tunnelSchema)
	d.diags(diags, t.Name)
	s := &scope{d: d, tunnel: idx, name: t.Name, attrs: content.Attributes, fields: t.Fields}
	var mode string
	s.str("mode", &mode)
	t.Mode = Mode(mode)
	s.address("listen", &t.Listen)
	s.address("target", &t.Target)
	parsed(s, "listen_mode", &t.ListenMode, ParseListenMode)
	s.boolean("unsafe_listen", &t.UnsafeListen)
	s.secret("passphrase", &t.Passphrase)
	s.secretList("previous_passphrases", &t.PreviousPassphrases)
	s.str("cluster", &t.Cluster)
	s.boolean("allow_weak_passphrase", &t.AllowWeakPassphrase)
	s.secret("shared_secret", &t.SharedSecret)

	blocks := d.uniqueBlocks(content.Blocks, t.Name)
	if bl := blocks["tls"]; bl != nil {
		t.TLS = DefaultTLS(t.Mode)
		t.TLS.Pos = d.blockScope(s, bl, tlsSchema).tls(t.TLS)
	}
	if bl := blocks["acme"]; bl != nil {
		t.ACME = &ACME{}
		t.ACME.Pos = d.blockScope(s, bl, acmeSchema).acme(t.ACME)
	}
	if bl := blocks["allow"]; bl != nil {
		d.blockScope(s, bl, allowSchema).allow(&t.Allow)
	}
	if bl := blocks["limits"]; bl != nil {
		d.blockScope(s, bl, limitsSchema).limits(&t.Limits)
	}
	if bl := blocks["proxy_protocol"]; bl != nil {
		d.blockScope(s, bl, proxyProtocolSchema).proxyProtocol(&t.ProxyProtocol)
	}
	return t
}

// uniqueBlocks indexes blocks by type and refuses a second block of a type.
func (d *decoder) uniqueBlocks(blocks hcl.Blocks, tunnel string) map[string]*hcl.Block {
	out := map[string]*hcl.Block{}
	for _, b := range blocks {
		if first, dup := out[b.Type]; dup {
			d.errs = append(d.errs, Error{Pos: hclPos(d.file, b.DefRange.Start), Tunnel: tunnel,
				Field: b.Type, Msg: fmt.Sprintf("duplicate block; the first is at %s",
					hclPos(d.file, first.DefRange.Start))})
			continue
		}
		out[b.Type] = b
	}
	return out
}

// blockScope decodes the body of a nested block, recording the block itself
// in Fields so that checks about the block as a whole can point at it.
func (d *decoder) blockScope(parent *scope, b *hcl.Block, schema *hcl.BodySchema) *blockDecoder {
	content, diags := b.Body.Content(schema)
	d.diags(diags, parent.name)
	pos := hclPos(d.file, b.DefRange.Start)
	parent.fields[b.Type] = pos
	return &blockDecoder{pos: pos, scope: scope{d: d, tunnel: parent.tunnel, name: parent.name,
		prefix: b.Type + ".", attrs: content.Attributes, fields: parent.fields}}
}

type blockDecoder struct {
	pos Pos
	scope
}

func (s *blockDecoder) tls(t *TLS) Pos {
	s.str("cert", &t.Cert)
	s.str("key", &t.Key)
	s.str("ca", &t.CA)
	s.str("client_auth", &t.ClientAuth)
	s.str("server_name", &t.ServerName)
	s.list("pin", &t.Pin)
	s.boolean("system_roots", &t.SystemRoots)
	s.boolean("insecure_skip_verify", &t.InsecureSkipVerify)
	s.boolean("self_signed", &t.SelfSigned)
	s.str("min_version", &t.MinVersion)
	s.str("max_version", &t.MaxVersion)
	s.list("cipher_suites", &t.CipherSuites)
	s.list("curves", &t.Curves)
	s.list("alpn", &t.ALPN)
	resume := true // left out: on
	s.boolean("session_resumption", &resume)
	t.SessionResumptionDisabled = !resume
	s.duration("session_lifetime", &t.SessionLifetime)
	return s.pos
}

func (s *blockDecoder) acme(a *ACME) Pos {
	s.list("domains", &a.Domains)
	s.str("email", &a.Email)
	s.str("ca", &a.CA)
	s.str("storage", &a.Storage)
	s.str("trusted_roots", &a.TrustedRoots)
	return s.pos
}

func (s *blockDecoder) allow(a *Allow) {
	s.list("cn", &a.CN)
	s.list("dns", &a.DNS)
	s.list("uri", &a.URI)
	s.list("ou", &a.OU)
}

func (s *blockDecoder) limits(l *Limits) {
	s.integer("max_connections", &l.MaxConnections)
	s.number("accept_rate", &l.AcceptRate)
	s.number("per_source_rate", &l.PerSourceRate)
	s.integer("per_source_handshakes", &l.PerSourceHandshakes)
	s.duration("handshake_timeout", &l.HandshakeTimeout)
	s.duration("connect_timeout", &l.ConnectTimeout)
	s.duration("idle_timeout", &l.IdleTimeout)
	s.duration("max_lifetime", &l.MaxLifetime)
	s.duration("drain_timeout", &l.DrainTimeout)
}

func (s *blockDecoder) proxyProtocol(p *ProxyProtocol) {
	s.str("accept", &p.Accept)
	s.list("trusted", &p.Trusted)
	s.str("send", &p.Send)
	s.boolean("tls_tlvs", &p.TLSTLVs)
}
