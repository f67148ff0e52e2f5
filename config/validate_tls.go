package config

import (
	"regexp"
)

// pinFormat is a SHA-256 fingerprint as `passtunnel pki fingerprint` prints
// it, in any case: pins are compared without case.
var pinFormat = regexp.MustCompile(`(?i)^SHA256(:[0-9A-F]{2}){32}$`)

// tls checks the values of the tls block one by one; identity and trust
// check how they combine.
func (v *validator) tls(i int) {
	t := v.c.Tunnels[i].TLS
	if t == nil {
		return
	}
	for _, f := range []struct {
		field string
		value string
	}{{"tls.cert", t.Cert}, {"tls.key", t.Key}, {"tls.ca", t.CA}, {"tls.pkcs12", t.PKCS12}} {
		if f.value == "" && v.given(i, f.field) && v.ok(i, f.field) {
			v.fail(i, f.field, "must not be empty")
		}
	}
	v.versions(i, t)
	if (t.SessionLifetime <= 0 || t.SessionLifetime > MaxSessionLifetime) && v.ok(i, "tls.session_lifetime") {
		v.fail(i, "tls.session_lifetime", "%s is out of range: want more than 0s and at most %s", t.SessionLifetime, MaxSessionLifetime)
	}
	for _, name := range t.CipherSuites {
		if err := CheckCipherSuite(name); err != nil {
			v.fail(i, "tls.cipher_suites", "%v", err)
		}
	}
	if len(t.CipherSuites) > 0 && t.MinVersion == "1.3" && v.ok(i, "tls.min_version") {
		v.fail(i, "tls.cipher_suites", "apply only to TLS 1.2, which %s excludes", v.setting("tls.min_version", "1.3"))
	}
	for _, name := range t.Curves {
		if err := CheckCurve(name); err != nil {
			v.fail(i, "tls.curves", "%v", err)
		}
	}
	for _, p := range t.ALPN {
		if p == "" || len(p) > 255 {
			v.fail(i, "tls.alpn", "invalid protocol %q: want 1 to 255 bytes", p)
		}
	}
	for _, p := range t.Pin {
		if !pinFormat.MatchString(p) {
			v.fail(i, "tls.pin", "invalid pin %q; want SHA256: and 32 hex bytes, as `passtunnel pki fingerprint` prints", p)
		}
	}
	v.modeOnly(i, t)
}

func (v *validator) versions(i int, t *TLS) {
	for _, f := range []struct{ field, value string }{
		{"tls.min_version", t.MinVersion}, {"tls.max_version", t.MaxVersion},
	} {
		if err := CheckTLSVersion(f.value); err != nil && v.ok(i, f.field) {
			v.fail(i, f.field, "%v", err)
		}
	}
	if v.ok(i, "tls.min_version") && v.ok(i, "tls.max_version") && t.MinVersion > t.MaxVersion {
		v.fail(i, "tls.min_version", "%q is above %s %q", t.MinVersion, v.name("tls.max_version"), t.MaxVersion)
	}
}

// modeOnly refuses settings the other side of the tunnel would silently ignore.
func (v *validator) modeOnly(i int, t *TLS) {
	switch v.c.Tunnels[i].Mode {
	case ModeServer:
		if t.ServerName != "" {
			v.fail(i, "tls.server_name", "only meaningful in client mode")
		}
		if t.SystemRoots {
			v.fail(i, "tls.system_roots", "only meaningful in client mode")
		}
		if t.InsecureSkipVerify {
			v.fail(i, "tls.insecure_skip_verify", "only meaningful in client mode")
		}
		if !oneOf(t.ClientAuth, "none", "request", "require") && v.ok(i, "tls.client_auth") {
			v.fail(i, "tls.client_auth", `invalid value %q; want "none", "request" or "require"`, t.ClientAuth)
		}
	case ModeClient:
		if v.given(i, "tls.client_auth") {
			v.fail(i, "tls.client_auth", "only meaningful in server mode")
		}
		if t.SelfSigned {
			v.fail(i, "tls.self_signed", "only meaningful in server mode")
		}
		if v.given(i, "tls.session_lifetime") {
			v.fail(i, "tls.session_lifetime", "only meaningful in server mode (it bounds the tickets a server accepts)")
		}
	}
}

// identity checks what a tunnel without a passphrase presents: at most one
// source, and a server must have one.
func (v *validator) identity(i int) {
	t := &v.c.Tunnels[i]
	tl := t.TLS
	if tl == nil {
		tl = DefaultTLS(t.Mode)
	}
	if v.given(i, "tls.key") && !v.given(i, "tls.cert") && !v.given(i, "tls.pkcs12") {
		v.fail(i, "tls.key", "needs %s: a key alone is no identity", v.name("tls.cert"))
	}
	v.keyPassphrase(i)
	var first string
	for _, id := range []struct {
		field string
		set   bool
	}{
		{"tls.cert", v.given(i, "tls.cert")},
		{"tls.pkcs12", v.given(i, "tls.pkcs12")},
		{"tls.self_signed", tl.SelfSigned},
		{"acme", t.ACME != nil},
	} {
		switch {
		case !id.set:
		case first == "":
			first = id.field
		default:
			v.fail(i, id.field, "conflicts with %s: give exactly one identity", v.name(first))
		}
	}
	if first == "" && t.Mode == ModeServer {
		v.fail(i, "tls.cert", "a server tunnel needs an identity: set %s (and %s) or %s",
			v.name("tls.cert"), v.name("tls.key"), v.name("passphrase"))
	}
}

// trust checks how a tunnel without a passphrase verifies its peer.
func (v *validator) trust(i int) {
	t := &v.c.Tunnels[i]
	tl := t.TLS
	if tl == nil {
		tl = DefaultTLS(t.Mode)
	}
	v.verifyMode(i, tl)
	if t.Mode == ModeServer {
		v.clientAuth(i, tl)
		return
	}
	var verifier string
	switch {
	case v.given(i, "tls.ca"):
		verifier = "tls.ca"
	case tl.SystemRoots:
		verifier = "tls.system_roots"
	case len(tl.Pin) > 0:
		verifier = "tls.pin"
	}
	switch {
	case verifier == "" && !tl.InsecureSkipVerify:
		insecure := "tls.insecure_skip_verify = true"
		if v.flags {
			insecure = "--insecure-skip-verify"
		}
		v.fail(i, "tls.ca", "a client tunnel that verifies nothing is refused: set %s, %s or %s (or %s to encrypt without verifying, for debugging only)",
			v.name("tls.ca"), v.name("tls.system_roots"), v.name("passphrase"), insecure)
	case verifier != "" && tl.InsecureSkipVerify:
		v.fail(i, "tls.insecure_skip_verify", "conflicts with %s: it would turn that verification off", v.name(verifier))
	}
	v.targetName(i, tl)
}

// clientAuth checks that a server asking for client certificates can verify
// them, and that a CA given to verify them is not silently unused.
func (v *validator) clientAuth(i int, tl *TLS) {
	if !v.ok(i, "tls.client_auth") {
		return
	}
	canVerify := v.given(i, "tls.ca") || len(tl.Pin) > 0
	switch {
	case tl.ClientAuth != "none" && !canVerify:
		field := "tls.ca"
		if v.given(i, "tls.client_auth") {
			field = "tls.client_auth"
		}
		v.fail(i, field, "%s needs %s to verify client certificates; set it, or %s to accept any client",
			v.setting("tls.client_auth", tl.ClientAuth), v.name("tls.ca"), v.setting("tls.client_auth", "none"))
	case tl.ClientAuth == "none" && v.given(i, "tls.ca"):
		v.fail(i, "tls.ca", "has no effect with %s: clients are not verified", v.setting("tls.client_auth", "none"))
	case tl.ClientAuth == "none" && len(tl.Pin) > 0 && v.ok(i, "tls.pin"):
		v.fail(i, "tls.pin", "has no effect with %s: clients are not verified", v.setting("tls.client_auth", "none"))
	}
}

// keyPassphrase refuses a key_passphrase that opens nothing: with no key
// file to decrypt it would be a secret kept in memory for no use.
func (v *validator) keyPassphrase(i int) {
	if v.given(i, "tls.key_passphrase") && !v.given(i, "tls.cert") && !v.given(i, "tls.pkcs12") {
		v.fail(i, "tls.key_passphrase", "has no effect: it opens the key of %s/%s or %s, and none is set",
			v.name("tls.cert"), v.name("tls.key"), v.name("tls.pkcs12"))
	}
}
