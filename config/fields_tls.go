package config

import "time"

// TLS is the tls { } block: identity from files and the trust settings.
type TLS struct {
	Pos                Pos
	Cert               string
	Key                string // "" when the key sits in the Cert file
	CA                 string
	ClientAuth         string // server: none | request | require (default require)
	ServerName         string
	Pin                []string
	SystemRoots        bool
	InsecureSkipVerify bool
	SelfSigned         bool
	MinVersion         string // "1.2" | "1.3", default "1.2"
	MaxVersion         string // "1.2" | "1.3", default "1.3"
	CipherSuites       []string
	Curves             []string
	ALPN               []string
	// SessionResumptionDisabled is session_resumption = false. It is
	// stored negated so that the zero value, which pki reads as the
	// default like every other field here, keeps resumption on.
	SessionResumptionDisabled bool
	// SessionLifetime is how long after it is issued a session ticket is
	// accepted (session_lifetime, default DefaultSessionLifetime).
	SessionLifetime time.Duration
	// PKCS12 is a PKCS#12 bundle (leaf, key, chain) instead of Cert/Key.
	PKCS12 string
	// KeyPassphrase opens an encrypted key or PKCS#12 file; never log it.
	KeyPassphrase Secret
	// Verify is how the peer's certificate is checked: VerifyName,
	// VerifyChain or VerifyPin (fields_verify.go).
	Verify string
	// LegacyCommonName lets a client match a server certificate that has
	// no SAN at all on its CN.
	LegacyCommonName bool
	// CRL lists PEM or DER certificate revocation lists of tls.ca's CAs.
	CRL []string
}

// DefaultSessionLifetime bounds how long a session ticket is accepted:
// HAProxy's default ticket lifetime, where Go's would be 7 days.
const DefaultSessionLifetime = 2 * time.Hour

// MaxSessionLifetime is the longest session_lifetime: crypto/tls refuses
// older tickets anyway.
const MaxSessionLifetime = 7 * 24 * time.Hour

// tlsFields is the table of the tls block.
var tlsFields = block[TLS]{
	name: "tls",
	ptr:  func(t *Tunnel) **TLS { return &t.TLS },
	pos:  func(t *TLS) *Pos { return &t.Pos },
	fields: append([]field[TLS]{
		{name: "cert", at: func(t *TLS) any { return &t.Cert }, path: true,
			flag: "--cert FILE", usage: "certificate `FILE` (PEM); the key may sit in the same file",
			doc: row{name: "`tls.cert`, `tls.key`", text: "identity from PEM or DER files; key may be in the cert file, or encrypted " +
				"([formats](docs/behaviour.md#key-and-certificate-formats))"}},
		{name: "key", at: func(t *TLS) any { return &t.Key }, path: true,
			flag: "--key FILE", usage: "private key `FILE` (PEM)",
			doc: inRowAbove},
		{name: "ca", at: func(t *TLS) any { return &t.CA }, path: true,
			flag: "--ca FILE", usage: "`FILE` of CA certificates (PEM) that the peer's certificate must chain to",
			doc: row{text: "trust anchors for the peer; a [trust file](docs/behaviour.md#files-and-permissions)"}},
		{name: "client_auth", at: func(t *TLS) any { return &t.ClientAuth }, def: byMode{ModeServer: "require"},
			flag: "--client-auth MODE", usage: "server: client certificates, `MODE` none, request or require",
			doc: row{text: "server: `none`, `request`, `require`; `request` and `require` need `ca`"}},
		{name: "server_name", at: func(t *TLS) any { return &t.ServerName },
			flag: "--server-name NAME", usage: "client: `NAME` sent as SNI and required in the server certificate",
			doc: row{def: "target host", text: "client: SNI and name check"}},
		{name: "system_roots", at: func(t *TLS) any { return &t.SystemRoots },
			flag: "--system-roots", usage: "client: trust the operating system's CA store",
			doc: row{text: "client: trust the OS store (with `ca`: either one)"}},
		{name: "insecure_skip_verify", at: func(t *TLS) any { return &t.InsecureSkipVerify },
			flag: "--insecure-skip-verify", usage: "client: encrypt without verifying the server (debugging only)",
			doc: row{text: "client: encrypt only, warn on every connection; cannot be combined with `ca`/`system_roots`"}},
		{name: "min_version", at: func(t *TLS) any { return &t.MinVersion }, def: "1.2",
			flag: "--min-version V", usage: "lowest TLS `VERSION`: 1.2 or 1.3",
			doc: row{name: "`tls.min_version`, `tls.max_version`", def: "`\"1.2\"`, `\"1.3\"`; passphrase tunnels `\"1.3\"`, `\"1.3\"`",
				text: "`\"1.2\"` or `\"1.3\"`; see [TLS 1.3 only by default](#passphrase-clusters-mtls-with-no-pki-to-run)"},
			flagDoc: row{name: "`--min-version V` / `--max-version V`"}},
		{name: "max_version", at: func(t *TLS) any { return &t.MaxVersion }, def: "1.3",
			flag: "--max-version V", usage: "highest TLS `VERSION`: 1.2 or 1.3",
			doc: inRowAbove, flagDoc: inRowAbove},
		{name: "cipher_suites", at: func(t *TLS) any { return &t.CipherSuites }, comma: true,
			flag: "--cipher-suites LIST", usage: "comma-separated TLS 1.2 cipher suite `NAMES` (crypto/tls spelling)",
			doc: row{def: "the ECDHE suites with AES-GCM or ChaCha20-Poly1305", text: "TLS 1.2 names; insecure suites refused; " +
				"TLS 1.3's are Go's ([why](docs/behaviour.md#tls-settings))"}},
		{name: "curves", at: func(t *TLS) any { return &t.Curves }, comma: true,
			flag: "--curves LIST", usage: "comma-separated key exchange `NAMES`: " + CurveNames(),
			doc: row{def: "Go's defaults", text: "as `--curves`"}},
		{name: "alpn", at: func(t *TLS) any { return &t.ALPN }, comma: true,
			flag: "--alpn LIST", usage: "comma-separated ALPN `PROTOCOLS` to offer or accept",
			doc: row{text: "ALPN protocol list"}},
		{name: "session_lifetime", at: func(t *TLS) any { return &t.SessionLifetime }, def: DefaultSessionLifetime,
			flag: "--session-lifetime D", usage: "server: accept a session ticket at most this long after it was issued (`DURATION`)",
			doc: row{text: "server: a session ticket is accepted at most this long after it was issued, at most `\"168h\"` " +
				"([ticket keys](docs/behaviour.md#tls-settings))"}},
		{name: "session_resumption", at: func(t *TLS) any { return (*negBool)(&t.SessionResumptionDisabled) },
			flag: "--session-resumption", usage: "resume TLS sessions (server: session tickets; client: a session cache); " +
				"-session-resumption=false makes every connection a full handshake",
			doc: row{text: "`false`: every connection a full handshake: no tickets (server), no session cache (client) " +
				"([more](docs/behaviour.md#tls-settings))"}},
		{name: "pin", at: func(t *TLS) any { return &t.Pin },
			flag: "--pin FINGERPRINT", usage: "accept only the peer leaf certificate with this SHA256:AB:CD:... `FINGERPRINT` (repeatable)",
			doc: row{text: "`\"SHA256:AB:CD:...\"`: accept a peer whose leaf has one of these fingerprints " +
				"([more](docs/behaviour.md#tls-settings))"}},
		{name: "self_signed", at: func(t *TLS) any { return &t.SelfSigned },
			flag: "--self-signed", usage: "server: make and keep a self-signed certificate in the state directory; its fingerprint is logged",
			doc: row{text: "server: make an ECDSA P-256 certificate once and keep it in the state directory; " +
				"instead of `cert`/`acme`/`passphrase`"}},
		{name: "pkcs12", at: func(t *TLS) any { return &t.PKCS12 }, path: true,
			flag: "--pkcs12 FILE", usage: "PKCS#12 `FILE` with the certificate, its chain and key, instead of --cert/--key",
			doc: row{text: "identity from a PKCS#12 (.p12/.pfx) file, instead of `cert`/`key`; its CAs are the chain sent, " +
				"not trust ([formats](docs/behaviour.md#key-and-certificate-formats))"}},
		{name: "key_passphrase", at: func(t *TLS) any { return &t.KeyPassphrase },
			flag: "--key-passphrase-file FILE / --key-passphrase-env VAR",
			doc:  row{text: "`env(\"...\")`, `file(\"...\")` or a literal: opens an encrypted `key` (PKCS#8 or legacy PEM) or `pkcs12`"}},
	}, verifyFields...),
}
