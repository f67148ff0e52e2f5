package config

import (
	"errors"
	"math/big"
	"strings"
)

// The values of tls.verify: how far a peer certificate is checked.
const (
	// VerifyName (the client's default): chain to the trust anchors and
	// be for tls.server_name.
	VerifyName = "name"
	// VerifyChain (the server's default): chain to the trust anchors, any
	// name (what stunnel's verify = 2 does).
	VerifyChain = "chain"
	// VerifyPin: no CA, the leaf must be one of tls.pin.
	VerifyPin = "pin"
)

// verifyFields are the tls block's entries of verification modes and
// revocation, appended to tlsFields.
var verifyFields = []field[TLS]{
	{name: "verify", at: func(t *TLS) any { return &t.Verify },
		def:  byMode{ModeServer: VerifyChain, ModeClient: VerifyName},
		flag: "--verify MODE", usage: "how the peer certificate is checked: `MODE` name (chain and server name), chain (chain only) or pin (tls.pin only)",
		check: func(p any) string {
			// "" is only the default of a tunnel whose mode is invalid,
			// reported already.
			if s := *p.(*string); s != "" && !oneOf(s, VerifyName, VerifyChain, VerifyPin) {
				return `invalid value "` + s + `"; want "name", "chain" or "pin"`
			}
			return ""
		},
		doc: row{def: "client `\"name\"`, server `\"chain\"`", text: "`\"name\"`: chain and server name; `\"chain\"`: chain only; " +
			"`\"pin\"`: `pin` only, no CA ([modes](docs/behaviour.md#verification-modes))"}},
	{name: "legacy_common_name", at: func(t *TLS) any { return &t.LegacyCommonName },
		flag: "--legacy-common-name", usage: "client: match a server certificate without any SAN on its CN (logs a warning)",
		doc: row{text: "client: a server certificate with no SAN is matched on its CN, with a warning once per certificate"}},
	{name: "crl", at: func(t *TLS) any { return &t.CRL }, path: true,
		flag: "--crl FILE", usage: "PEM or DER certificate revocation list `FILE` of a tls.ca CA (repeatable); hot-reloaded",
		doc: row{text: "PEM or DER CRLs signed by a `ca` certificate, hot-reloaded; a listed peer is refused " +
			"([revocation](docs/behaviour.md#revocation))"}},
}

// Deny is the deny { } block: peer certificates refused whatever else
// accepts them.
type Deny struct {
	Fingerprints []string // "SHA256:AB:..." of a certificate the peer sends
	Serials      []string // serial numbers of the peer's leaf: "0a:1b:.." or decimal
}

// Empty reports whether nothing is denied.
func (d Deny) Empty() bool { return len(d.Fingerprints) == 0 && len(d.Serials) == 0 }

// denyFields is the table of the deny block (a name DESIGN.md gives; its
// flags --deny-fingerprint and --deny-serial are not in DESIGN.md).
var denyFields = block[Deny]{
	name: "deny",
	in:   func(t *Tunnel) *Deny { return &t.Deny },
	fields: []field[Deny]{
		{name: "fingerprints", at: func(d *Deny) any { return &d.Fingerprints },
			flag: "--deny-fingerprint FINGERPRINT", usage: "refuse a peer that sends the certificate with this SHA256:AB:... `FINGERPRINT` (repeatable)",
			check: func(p any) string {
				for _, f := range *p.(*[]string) {
					if !pinFormat.MatchString(f) {
						return `invalid fingerprint "` + f + `"; want SHA256: and 32 hex bytes, as ` + "`passtunnel pki fingerprint`" + ` prints`
					}
				}
				return ""
			},
			doc: row{text: "refuse a peer that sends a certificate with one of these fingerprints; passphrase tunnels too " +
				"([revocation](docs/behaviour.md#revocation))"}},
		{name: "serials", at: func(d *Deny) any { return &d.Serials },
			flag: "--deny-serial SERIAL", usage: "refuse a peer whose certificate has this `SERIAL` (\"0a:1b:...\" hex or decimal; repeatable)",
			check: func(p any) string {
				for _, s := range *p.(*[]string) {
					if _, err := ParseSerial(s); err != nil {
						return err.Error()
					}
				}
				return ""
			},
			doc: row{text: "refuse a peer whose certificate has one of these serial numbers, `\"0a:1b:..\"` (hex bytes) or decimal"}},
	},
}

// ParseSerial reads a certificate serial number as deny.serials takes it:
// hex bytes separated by ':' ("0a:1b", as openssl x509 -serial prints
// with colons), or decimal digits. A lone "0a" is refused: it could be
// either.
func ParseSerial(s string) (*big.Int, error) {
	bad := errors.New(`invalid serial "` + s + `"; want hex bytes separated by ':' ("0a:1b:2c") or decimal digits`)
	n := new(big.Int)
	if strings.Contains(s, ":") {
		for _, b := range strings.Split(s, ":") {
			if len(b) != 2 || strings.Trim(strings.ToLower(b), "0123456789abcdef") != "" {
				return nil, bad
			}
		}
		if _, ok := n.SetString(strings.ReplaceAll(s, ":", ""), 16); !ok {
			return nil, bad
		}
		return n, nil
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return nil, bad
	}
	n.SetString(s, 10)
	return n, nil
}

// verifyMode checks how tls.verify combines with the rest of the tunnel's
// trust (a tunnel without a passphrase; passphrase.go refuses it there).
func (v *validator) verifyMode(i int, tl *TLS) {
	if !v.ok(i, "tls.verify") {
		return
	}
	t := &v.c.Tunnels[i]
	given := v.given(i, "tls.verify")
	hasCA := v.given(i, "tls.ca") || tl.SystemRoots
	switch {
	case given && tl.Verify == VerifyName && t.Mode == ModeServer:
		v.fail(i, "tls.verify", `"name": a server has no name to check client certificates against; use "chain" and narrow with allow { }`)
	case tl.Verify == VerifyPin && len(tl.Pin) == 0:
		v.fail(i, "tls.verify", "%s needs %s", v.setting("tls.verify", VerifyPin), v.name("tls.pin"))
	case tl.Verify == VerifyPin && hasCA:
		field := "tls.ca"
		if !v.given(i, "tls.ca") {
			field = "tls.system_roots"
		}
		v.fail(i, field, "has no effect with %s: only tls.pin is checked", v.setting("tls.verify", VerifyPin))
	case given && tl.Verify != VerifyPin && !hasCA && len(tl.Pin) > 0:
		v.fail(i, "tls.verify", "%s needs %s to chain to; with %s alone use %s",
			v.setting("tls.verify", tl.Verify), v.name("tls.ca"), v.name("tls.pin"), v.setting("tls.verify", VerifyPin))
	case given && tl.InsecureSkipVerify:
		v.fail(i, "tls.verify", "conflicts with %s, which verifies nothing", v.name("tls.insecure_skip_verify"))
	}
	v.legacyCN(i, tl)
	if !t.Deny.Empty() && t.Mode == ModeServer && tl.ClientAuth == "none" && v.ok(i, "tls.client_auth") {
		field := "deny.fingerprints"
		if !v.given(i, field) {
			field = "deny.serials"
		}
		v.fail(i, field, "has no effect with %s: clients show no certificate to check", v.setting("tls.client_auth", "none"))
	}
	if len(tl.CRL) > 0 && !v.given(i, "tls.ca") {
		v.fail(i, "tls.crl", "needs %s: a CRL is checked against the CA that signed it", v.name("tls.ca"))
	}
}

// legacyCN refuses legacy_common_name where no name is checked.
func (v *validator) legacyCN(i int, tl *TLS) {
	if !tl.LegacyCommonName {
		return
	}
	switch {
	case v.c.Tunnels[i].Mode == ModeServer:
		v.fail(i, "tls.legacy_common_name", "only meaningful in client mode (client certificates are not checked by name)")
	case tl.Verify != VerifyName || tl.InsecureSkipVerify || (!v.given(i, "tls.ca") && !tl.SystemRoots):
		v.fail(i, "tls.legacy_common_name", "has no effect: it relaxes the name check of %s with %s, which this tunnel does not do",
			v.setting("tls.verify", VerifyName), v.name("tls.ca"))
	}
}
