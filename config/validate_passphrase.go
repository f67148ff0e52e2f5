package config

// A passphrase derives both what a tunnel presents and what it trusts, so a
// setting that claims either would be silently overridden. pki refuses the
// same settings as a backstop (refuseWithPassphrase); config reports them
// first, each at its own position.
const (
	passphraseIdentity = "the passphrase is this tunnel's identity (a node certificate of the cluster)"
	passphraseTrust    = "the passphrase is this tunnel's trust (peers must present a node certificate of the cluster)"
)

var passphraseConflicts = []struct {
	field string
	why   string
	set   func(t *Tunnel, tl *TLS) bool
}{
	{"tls.cert", passphraseIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.Cert != "" }},
	{"tls.key", passphraseIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.Key != "" }},
	{"tls.self_signed", passphraseIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.SelfSigned }},
	{"acme", passphraseIdentity, func(t *Tunnel, _ *TLS) bool { return t.ACME != nil }},
	{"tls.ca", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.CA != "" }},
	{"tls.pin", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return len(tl.Pin) > 0 }},
	{"tls.system_roots", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.SystemRoots }},
	{"tls.insecure_skip_verify", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.InsecureSkipVerify }},
}

// passphrase checks a tunnel with a passphrase, in place of identity and
// trust: it needs no certificate or CA, nothing else may claim either role,
// and a server always verifies its clients.
func (v *validator) passphrase(i int) {
	t := &v.c.Tunnels[i]
	tl := t.TLS
	if tl == nil {
		tl = DefaultTLS(t.Mode)
	}
	for _, c := range passphraseConflicts {
		if c.set(t, tl) && v.ok(i, c.field) {
			v.fail(i, c.field, "conflicts with %s: %s", v.name("passphrase"), c.why)
		}
	}
	if t.Mode == ModeServer && tl.ClientAuth != "require" && v.ok(i, "tls.client_auth") {
		v.fail(i, "tls.client_auth", "conflicts with %s: a passphrase tunnel always requires and verifies client certificates; leave it out or set %s",
			v.name("passphrase"), v.setting("tls.client_auth", "require"))
	}
}

// needsPassphrase refuses the passphrase settings that would do nothing
// without a passphrase.
func (v *validator) needsPassphrase(i int) {
	t := &v.c.Tunnels[i]
	if v.given(i, "passphrase") {
		return
	}
	if len(t.PreviousPassphrases) > 0 && v.ok(i, "previous_passphrases") {
		v.fail(i, "previous_passphrases", "needs %s: previous passphrases are trusted only beside a current one", v.name("passphrase"))
	}
	if v.given(i, "cluster") && t.Cluster != defaultCluster && v.ok(i, "cluster") {
		v.fail(i, "cluster", "needs %s: the cluster only salts the passphrase derivation", v.name("passphrase"))
	}
	if t.AllowWeakPassphrase && v.ok(i, "allow_weak_passphrase") {
		v.fail(i, "allow_weak_passphrase", "needs %s: there is no passphrase to relax the policy for", v.name("passphrase"))
	}
}
