package config

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// flagBuilder turns parsed flag values into a Config, reporting values that do
// not parse; everything else is left to the shared validator.
type flagBuilder struct {
	f       *flagValues
	given   map[string]bool
	errs    Errors
	failed  map[fieldKey]bool
	secrets []string
}

func (f *flagValues) build(fs *flag.FlagSet, mode Mode) (*Config, error) {
	b := &flagBuilder{f: f, given: map[string]bool{}, failed: map[fieldKey]bool{}}
	c := &Config{LogLevel: *f.s["log-level"], LogFormat: *f.s["log-format"], Fields: map[string]Pos{}}
	t := newTunnel(*f.s["name"], mode)
	fs.Visit(func(fl *flag.Flag) {
		b.given[fl.Name] = true
		switch field := fieldFor(fl.Name); {
		case field == "":
		case topLevel(field):
			c.Fields[field] = Pos{Flag: fl.Name}
		default:
			t.Fields[field] = Pos{Flag: fl.Name}
		}
	})
	if b.given["admin"] {
		c.Admin = &Address{}
		b.address("admin", c.Admin)
	}
	b.address("listen", &t.Listen)
	b.address("target", &t.Target)
	if b.given["listen-mode"] {
		if m, err := ParseListenMode(*f.s["listen-mode"]); err != nil {
			b.fail("listen-mode", "%v", err)
		} else {
			t.ListenMode = m
		}
	}
	t.UnsafeListen = *f.b["unsafe-listen"]
	b.tls(&t)
	b.limits(&t.Limits)
	t.ProxyProtocol = ProxyProtocol{Accept: *f.s["proxy-protocol-accept"], Trusted: f.l["proxy-protocol-trusted"].vals,
		Send: *f.s["proxy-protocol-send"], TLSTLVs: *f.b["proxy-protocol-tls-tlvs"]}
	b.passphrase(&t)
	t.Allow = Allow{CN: f.l["allow-cn"].vals, DNS: f.l["allow-dns"].vals,
		URI: f.l["allow-uri"].vals, OU: f.l["allow-ou"].vals}
	c.Tunnels = []Tunnel{t}

	errs := append(b.errs, validate(c, b.failed, true)...)
	errs.redact(b.secrets)
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	return c, nil
}

func (b *flagBuilder) fail(flag, format string, args ...any) {
	field, ti := fieldFor(flag), 0
	if topLevel(field) {
		ti = -1
	}
	b.failed[fieldKey{ti, field}] = true
	b.errs = append(b.errs, Error{Pos: Pos{Flag: flag}, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (b *flagBuilder) address(flag string, dst *Address) {
	if !b.given[flag] {
		return
	}
	a, err := ParseAddress(*b.f.s[flag])
	if err != nil {
		b.fail(flag, "%v", err)
		return
	}
	*dst = a
}

func (b *flagBuilder) tls(t *Tunnel) {
	given := false
	for name := range b.given {
		given = given || strings.HasPrefix(fieldFor(name), "tls.")
	}
	if !given {
		return
	}
	s, l := b.f.s, b.f.l
	t.TLS = &TLS{
		Cert: *s["cert"], Key: *s["key"], CA: *s["ca"], ClientAuth: *s["client-auth"],
		ServerName: *s["server-name"], Pin: l["pin"].vals,
		SystemRoots: *b.f.b["system-roots"], InsecureSkipVerify: *b.f.b["insecure-skip-verify"],
		SelfSigned: *b.f.b["self-signed"], MinVersion: *s["min-version"], MaxVersion: *s["max-version"],
		CipherSuites: l["cipher-suites"].vals, Curves: l["curves"].vals, ALPN: l["alpn"].vals,
		SessionResumptionDisabled: !*b.f.b["session-resumption"],
	}
	b.duration("session-lifetime", &t.TLS.SessionLifetime)
}

func (b *flagBuilder) limits(l *Limits) {
	b.integer("max-connections", &l.MaxConnections)
	b.rate("accept-rate", &l.AcceptRate)
	b.rate("per-source-rate", &l.PerSourceRate)
	b.integer("per-source-handshakes", &l.PerSourceHandshakes)
	b.duration("handshake-timeout", &l.HandshakeTimeout)
	b.duration("connect-timeout", &l.ConnectTimeout)
	b.duration("idle-timeout", &l.IdleTimeout)
	b.duration("max-lifetime", &l.MaxLifetime)
	b.duration("drain-timeout", &l.DrainTimeout)
}

func (b *flagBuilder) integer(flag string, dst *int) {
	n, err := strconv.Atoi(*b.f.s[flag])
	if err != nil {
		b.fail(flag, "invalid number %q", *b.f.s[flag])
		return
	}
	*dst = n
}

func (b *flagBuilder) rate(flag string, dst *float64) {
	r, err := strconv.ParseFloat(*b.f.s[flag], 64)
	if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
		b.fail(flag, "invalid number %q", *b.f.s[flag])
		return
	}
	*dst = r
}

func (b *flagBuilder) duration(flag string, dst *time.Duration) {
	d, err := parseDuration(*b.f.s[flag])
	if err != nil {
		b.fail(flag, "%v", err)
		return
	}
	*dst = d
}

// passphrase reads the secrets named by flags; the flags carry only where
// the secret is, never the secret.
func (b *flagBuilder) passphrase(t *Tunnel) {
	s := b.f.s
	t.Cluster = *s["cluster"]
	t.AllowWeakPassphrase = *b.f.b["allow-weak-passphrase"]
	switch {
	case b.given["passphrase-file"] && b.given["passphrase-env"]:
		b.fail("passphrase-env", "give one of --passphrase-file and --passphrase-env")
	case b.given["passphrase-file"]:
		t.Passphrase, _ = b.secret("passphrase-file", secretRef{"file", *s["passphrase-file"]})
	case b.given["passphrase-env"]:
		t.Passphrase, _ = b.secret("passphrase-env", secretRef{"env", *s["passphrase-env"]})
	}
	b.previousPassphrases(t)
	if b.given["shared-secret-env"] {
		t.SharedSecret, _ = b.secret("shared-secret-env", secretRef{"env", *s["shared-secret-env"]})
	}
}

// previousPassphrases reads every --previous-passphrase-file/-env. Like the
// HCL list, it is left empty when one of them cannot be read.
func (b *flagBuilder) previousPassphrases(t *Tunnel) {
	var out []Secret
	ok := true
	for _, ref := range b.f.prev {
		v, read := b.secret("previous-passphrase-"+ref.kind, ref)
		ok = ok && read
		out = append(out, v)
	}
	if ok {
		t.PreviousPassphrases = out
	}
}

// secret reads the secret ref names, reporting a failure against flag. The
// message names the file or variable, never the value.
func (b *flagBuilder) secret(flag string, ref secretRef) (Secret, bool) {
	source := fmt.Sprintf("%s(%q)", ref.kind, ref.where)
	read := b.f.env.secret
	if ref.kind == "file" {
		read = func(p string) (string, error) { return readFile("", p, StakeSecret) }
	}
	v, err := read(ref.where)
	if err != nil {
		b.fail(flag, "%s: %v", source, err)
		return Secret{}, false
	}
	b.secrets = append(b.secrets, v)
	return NewSecret(v, source), true
}
