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
	b.tls(&t)
	b.limits(&t.Limits)
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
	}
}

func (b *flagBuilder) limits(l *Limits) {
	if n, err := strconv.Atoi(*b.f.s["max-connections"]); err == nil {
		l.MaxConnections = n
	} else {
		b.fail("max-connections", "invalid number %q", *b.f.s["max-connections"])
	}
	b.rate("accept-rate", &l.AcceptRate)
	b.rate("per-source-rate", &l.PerSourceRate)
	b.duration("handshake-timeout", &l.HandshakeTimeout)
	b.duration("connect-timeout", &l.ConnectTimeout)
	b.duration("idle-timeout", &l.IdleTimeout)
	b.duration("max-lifetime", &l.MaxLifetime)
	b.duration("drain-timeout", &l.DrainTimeout)
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
		b.secret("passphrase-file", &t.Passphrase, "file", func(p string) (string, error) { return readFile("", p) })
	case b.given["passphrase-env"]:
		b.secret("passphrase-env", &t.Passphrase, "env", readEnv)
	}
	if b.given["shared-secret-env"] {
		b.secret("shared-secret-env", &t.SharedSecret, "env", readEnv)
	}
}

func (b *flagBuilder) secret(flag string, dst *Secret, fn string, read func(string) (string, error)) {
	where := *b.f.s[flag]
	source := fmt.Sprintf("%s(%q)", fn, where)
	v, err := read(where)
	if err != nil {
		b.fail(flag, "%s: %v", source, err)
		return
	}
	b.secrets = append(b.secrets, v)
	*dst = NewSecret(v, source)
}
