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
	{"tls.pkcs12", passphraseIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.PKCS12 != "" }},
	{"tls.self_signed", passphraseIdentity, func(_ *Tunnel, tl *TLS) bool { return tl.SelfSigned }},
	{"acme", passphraseIdentity, func(t *Tunnel, _ *TLS) bool { return t.ACME != nil }},
	{"spiffe", passphraseIdentity, func(t *Tunnel, _ *TLS) bool { return t.SPIFFE != nil }},
	{"tls.ca", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.CA != "" }},
	{"tls.pin", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return len(tl.Pin) > 0 }},
	{"tls.system_roots", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.SystemRoots }},
	{"tls.insecure_skip_verify", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.InsecureSkipVerify }},
	{"tls.verify", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.Verify == VerifyPin }},
	{"tls.legacy_common_name", passphraseTrust, func(_ *Tunnel, tl *TLS) bool { return tl.LegacyCommonName }},
	{"tls.crl", passphraseTrust + "; refuse single node certificates with deny { }", func(_ *Tunnel, tl *TLS) bool { return len(tl.CRL) > 0 }},
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
	if v.given(i, "tls.verify") && tl.Verify == VerifyName && v.ok(i, "tls.verify") {
		v.fail(i, "tls.verify", `conflicts with %s: nodes are verified by chain to the cluster CA, not by name; leave it out or narrow with allow { }`,
			v.name("passphrase"))
	}
	if t.Mode == ModeServer && tl.ClientAuth != "require" && v.ok(i, "tls.client_auth") {
		v.fail(i, "tls.client_auth", "conflicts with %s: a passphrase tunnel always requires and verifies client certificates; leave it out or set %s",
			v.name("passphrase"), v.setting("tls.client_auth", "require"))
	}
}

// needsPassphrase refuses the passphrase settings that would do nothing
// without a passphrase. The cluster also salts a shared_secret's
// stretching, and the policy applies to it too.
func (v *validator) needsPassphrase(i int) {
	t := &v.c.Tunnels[i]
	if v.given(i, "passphrase") {
		return
	}
	if len(t.PreviousPassphrases) > 0 && v.ok(i, "previous_passphrases") {
		v.fail(i, "previous_passphrases", "needs %s: previous passphrases are trusted only beside a current one", v.name("passphrase"))
	}
	if v.given(i, "shared_secret") {
		return
	}
	if v.given(i, "cluster") && t.Cluster != defaultCluster && v.ok(i, "cluster") {
		v.fail(i, "cluster", "needs %s or %s: the cluster only salts their derivations", v.name("passphrase"), v.name("shared_secret"))
	}
	if t.AllowWeakPassphrase && v.ok(i, "allow_weak_passphrase") {
		v.fail(i, "allow_weak_passphrase", "needs %s or %s: there is no secret to relax the policy for", v.name("passphrase"), v.name("shared_secret"))
	}
}

// sharedSecret refuses a shared_secret whose peer is not authenticated by
// certificate. The proof is only ever exchanged with a peer whose
// certificate was verified: an anonymous peer that got one could try
// guesses at the secret offline, as fast as it can compute them.
func (v *validator) sharedSecret(i int) {
	t := &v.c.Tunnels[i]
	if !v.given(i, "shared_secret") || v.given(i, "passphrase") {
		return // a passphrase tunnel verifies its peer's certificate both ways
	}
	tl := t.TLS
	if tl == nil {
		tl = DefaultTLS(t.Mode)
	}
	switch {
	case t.Mode == ModeServer && tl.ClientAuth != "require" && v.ok(i, "tls.client_auth"):
		v.fail(i, "shared_secret", "needs clients authenticated by certificate, and %s lets in clients without one "+
			"(who could collect a proof and guess the secret offline): set %s, with tls.ca or tls.pin",
			v.setting("tls.client_auth", tl.ClientAuth), v.setting("tls.client_auth", "require"))
	case t.Mode == ModeClient && tl.InsecureSkipVerify && v.ok(i, "tls.insecure_skip_verify"):
		v.fail(i, "shared_secret", "needs a server authenticated by certificate, and with %s any server "+
			"could collect a proof and guess the secret offline: verify the server with %s, %s or %s",
			v.name("tls.insecure_skip_verify"), v.name("tls.ca"), v.name("tls.system_roots"), v.name("tls.pin"))
	}
}

// passphraseVersions makes TLS 1.3 the floor of a passphrase tunnel that
// does not set tls.min_version: a TLS 1.2 session ticket carries the
// master secret, and a cluster's derived ticket keys are only as secret as
// its passphrase (pki never issues a resumable TLS 1.2 ticket under them
// anyway). A tunnel that needs TLS 1.2 peers says so with min_version.
func (v *validator) passphraseVersions(i int) {
	t := &v.c.Tunnels[i]
	if !v.given(i, "passphrase") || t.TLS == nil || v.given(i, "tls.min_version") {
		return
	}
	if t.TLS.MaxVersion == "1.2" && v.given(i, "tls.max_version") {
		v.fail(i, "tls.max_version", "a passphrase tunnel speaks TLS 1.3 only unless %s is set too",
			v.setting("tls.min_version", "1.2"))
		return
	}
	t.TLS.MinVersion = "1.3"
}
