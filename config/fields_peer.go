package config

import "strings"

// ACME is the acme { } block.
type ACME struct {
	Pos          Pos
	Domains      []string
	Email        string
	CA           string
	Storage      string
	TrustedRoots string
}

// Allow narrows which authenticated peers are accepted; the lists are OR'd.
type Allow struct {
	CN  []string
	DNS []string
	URI []string
	OU  []string
}

// Empty reports whether no allow rule was given.
func (a Allow) Empty() bool {
	return len(a.CN) == 0 && len(a.DNS) == 0 && len(a.URI) == 0 && len(a.OU) == 0
}

// allowFields is the table of the allow block; one flag --allow-KIND per list.
var allowFields = block[Allow]{
	name: "allow",
	in:   func(t *Tunnel) *Allow { return &t.Allow },
	fields: []field[Allow]{
		{name: "cn", at: func(a *Allow) any { return &a.CN }, flag: "--allow-cn PATTERN", usage: allowUsage("cn"),
			doc: row{name: "`allow.cn`, `allow.ou`", text: "accept only peers whose verified certificate " +
				"(the one the CA chain or pin accepted) has this exact CN / one OU"},
			flagDoc: row{name: "`--allow-cn` / `--allow-dns` / `--allow-uri` / `--allow-ou PATTERN`"}},
		{name: "ou", at: func(a *Allow) any { return &a.OU }, flag: "--allow-ou PATTERN", usage: allowUsage("ou"),
			doc: inRowAbove, flagDoc: inRowAbove},
		{name: "dns", at: func(a *Allow) any { return &a.DNS }, flag: "--allow-dns PATTERN", usage: allowUsage("dns"),
			doc: row{name: "`allow.dns`, `allow.uri`", text: "same for a DNS or URI SAN; `*` is one label or path segment, `**` one or more; " +
				"all allow lists are OR'd"},
			flagDoc: inRowAbove},
		{name: "uri", at: func(a *Allow) any { return &a.URI }, flag: "--allow-uri PATTERN", usage: allowUsage("uri"),
			doc: inRowAbove, flagDoc: inRowAbove},
	},
}

func allowUsage(kind string) string {
	return "accept only peers whose certificate has this " + strings.ToUpper(kind) +
		" `PATTERN` (repeatable, OR'd; dns and uri take * and ** segments)"
}

// acmeFields is the table of the acme block, which has no flags.
var acmeFields = block[ACME]{
	name: "acme",
	doc: row{name: "`acme { }`", text: "server identity from an ACME CA (see [ACME](docs/behaviour.md#acme)); " +
		"instead of `tls.cert`, `tls.self_signed` or `passphrase`; needs a `host:port` listen"},
	ptr: func(t *Tunnel) **ACME { return &t.ACME },
	pos: func(a *ACME) *Pos { return &a.Pos },
	fields: []field[ACME]{
		{name: "domains", at: func(a *ACME) any { return &a.Domains },
			doc: row{def: "required", text: "names of the certificate (DNS names or IP addresses); no wildcards (they need DNS-01)"}},
		{name: "email", at: func(a *ACME) any { return &a.Email },
			doc: row{text: "account contact; the CA writes to it about expiring certificates"}},
		{name: "ca", at: func(a *ACME) any { return &a.CA },
			doc: row{def: "Let's Encrypt production", text: "ACME directory URL, `https://`"}},
		{name: "storage", at: func(a *ACME) any { return &a.Storage }, path: true,
			doc: row{def: "`<state dir>/acme`", text: "account, keys and certificates on disk; keep it on a volume"}},
		{name: "trusted_roots", at: func(a *ACME) any { return &a.TrustedRoots }, path: true,
			doc: row{def: "system roots", text: "PEM of the CA that signs a private ACME server's HTTPS certificate; " +
				"a [trust file](docs/behaviour.md#files-and-permissions)"}},
	},
}

// ProxyProtocol is the proxy_protocol { } block.
type ProxyProtocol struct {
	Accept  string // none | v1 | v2 | any
	Trusted []string
	Send    string // none | v1 | v2
	TLSTLVs bool
}

// proxyProtocolFields is the table of the proxy_protocol block.
var proxyProtocolFields = block[ProxyProtocol]{
	name: "proxy_protocol",
	in:   func(t *Tunnel) *ProxyProtocol { return &t.ProxyProtocol },
	fields: []field[ProxyProtocol]{
		{name: "accept", at: func(p *ProxyProtocol) any { return &p.Accept }, def: "none",
			flag: "--proxy-protocol-accept V", usage: "read a PROXY protocol header from trusted peers: `VERSION` none, v1, v2 or any",
			doc: row{text: "`\"v1\"`, `\"v2\"` or `\"any\"`: every connection starts with a PROXY header from a `trusted` address"}},
		{name: "trusted", at: func(p *ProxyProtocol) any { return &p.Trusted }, comma: true,
			flag: "--proxy-protocol-trusted CIDR", usage: "`CIDR` allowed to send a PROXY header (repeatable or comma-separated); others are refused",
			doc: row{text: "CIDRs or addresses allowed to send a header; required with `accept` on a `host:port` listener " +
				"(a unix listener trusts its local peers)"}},
		{name: "send", at: func(p *ProxyProtocol) any { return &p.Send }, def: "none",
			flag: "--proxy-protocol-send V", usage: "write a PROXY protocol header to the target: `VERSION` none, v1 or v2",
			doc: row{text: "`\"v1\"` or `\"v2\"`: write a header to the target before any other byte"}},
		{name: "tls_tlvs", at: func(p *ProxyProtocol) any { return &p.TLSTLVs },
			flag: "--proxy-protocol-tls-tlvs", usage: "with --proxy-protocol-send v2: add ALPN, SNI and TLS (version, client CN) TLVs",
			doc: row{text: "with `send = \"v2\"`: add ALPN, SNI and SSL (version, client CN) TLVs"}},
	},
}
