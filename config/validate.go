package config

import (
	"fmt"
	"regexp"
	"strings"
)

// validator checks a decoded Config, whichever front end built it (HCL or
// flags): both record where each field came from in Fields, so one set of
// checks yields file:line:col or "flag --x" positions.
type validator struct {
	c      *Config
	flags  bool              // built from flags: name fields as --flags in messages
	failed map[fieldKey]bool // fields already reported; dependent checks skip them
	errs   Errors
}

func validate(c *Config, failed map[fieldKey]bool, flags bool) Errors {
	v := &validator{c: c, flags: flags, failed: failed}
	v.top()
	for i := range c.Tunnels {
		v.tunnel(i)
	}
	v.duplicates()
	v.notSupported()
	return v.errs
}

// pos is where to point for a field: where it was set, else (for a field left
// out) its enclosing block, else the tunnel block.
func (v *validator) pos(ti int, field string) Pos {
	fields, fallback := v.c.Fields, Pos{File: v.c.File, Line: 1, Column: 1}
	if ti >= 0 {
		fields, fallback = v.c.Tunnels[ti].Fields, v.c.Tunnels[ti].Pos
	}
	if p, ok := fields[field]; ok {
		return p
	}
	if v.flags {
		return Pos{Flag: flagFor(field)}
	}
	if block, _, ok := strings.Cut(field, "."); ok {
		if p, ok := fields[block]; ok {
			return p
		}
	}
	return fallback
}

func (v *validator) fail(ti int, field, format string, args ...any) {
	v.failed[fieldKey{ti, field}] = true
	e := Error{Pos: v.pos(ti, field), Field: field, Msg: fmt.Sprintf(format, args...)}
	if ti >= 0 {
		e.Tunnel = v.c.Tunnels[ti].Name
	}
	v.errs = append(v.errs, e)
}

// given reports whether the user set a field (even to a value that failed).
func (v *validator) given(ti int, field string) bool {
	_, ok := v.c.Tunnels[ti].Fields[field]
	return ok
}

// ok reports whether a field holds a usable value: not already reported.
func (v *validator) ok(ti int, field string) bool { return !v.failed[fieldKey{ti, field}] }

// name is how messages refer to a field: its HCL path, or the flag that set
// it (passphrase has two).
func (v *validator) name(field string) string {
	if !v.flags {
		return field
	}
	if p, ok := v.c.Tunnels[0].Fields[field]; ok {
		return "--" + p.Flag
	}
	return "--" + flagFor(field)
}

// setting shows a field set to a value the way the user would write it.
func (v *validator) setting(field, value string) string {
	if v.flags {
		return "--" + flagFor(field) + "=" + value
	}
	return fmt.Sprintf("%s = %q", field, value)
}

func (v *validator) top() {
	c := v.c
	if !v.flags && len(c.Tunnels) == 0 {
		v.errs = append(v.errs, Error{Pos: Pos{File: c.File, Line: 1, Column: 1},
			Msg: `no tunnel defined; add a tunnel "NAME" { ... } block`})
	}
	topFields.checkIn(v, -1, c)
	if !oneOf(c.LogLevel, "debug", "info", "warn", "error") && !v.failed[fieldKey{-1, "log_level"}] {
		v.fail(-1, "log_level", "invalid value %q; want debug, info, warn or error", c.LogLevel)
	}
	if !oneOf(c.LogFormat, "text", "json") && !v.failed[fieldKey{-1, "log_format"}] {
		v.fail(-1, "log_format", "invalid value %q; want text or json", c.LogFormat)
	}
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

var (
	tunnelName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	clusterName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

func (v *validator) tunnel(i int) {
	t := &v.c.Tunnels[i]
	if !tunnelName.MatchString(t.Name) {
		v.fail(i, "name", "invalid tunnel name %q; use letters, digits, '.', '_' and '-'", t.Name)
	}
	switch {
	case t.Mode == "" && !v.given(i, "mode"):
		v.fail(i, "mode", `missing; want "server" or "client"`)
	case v.ok(i, "mode") && t.Mode != ModeServer && t.Mode != ModeClient:
		v.fail(i, "mode", `invalid mode %q; want "server" or "client"`, t.Mode)
	}
	v.addresses(i)
	v.secrets(i)
	if v.ok(i, "cluster") && !clusterName.MatchString(t.Cluster) {
		v.fail(i, "cluster", "invalid cluster name %q; use lower-case letters, digits and '-' (it becomes a DNS label)", t.Cluster)
	}
	v.fieldChecks(i)
	v.passphraseVersions(i)
	v.tls(i)
	switch {
	case t.Mode != ModeServer && t.Mode != ModeClient:
	case v.given(i, "passphrase"):
		v.passphrase(i)
	case t.SPIFFE != nil:
		v.spiffe(i)
	default:
		v.identity(i)
		v.trust(i)
	}
	v.needsPassphrase(i)
	v.sharedSecret(i)
	v.acme(i)
	v.allow(i)
	v.proxyProtocol(i)
	v.sni(i)
	v.transparent(i)
	v.connectProxy(i)
}

func (v *validator) addresses(i int) {
	t := &v.c.Tunnels[i]
	for _, f := range []string{"listen", "target"} {
		if !v.given(i, f) && (f != "target" || !t.IsTransparent()) {
			v.fail(i, f, "missing; want host:port or unix:/path")
		}
	}
	v.targets(i)
	v.listenExposure(i)
}

func (v *validator) secrets(i int) {
	t := &v.c.Tunnels[i]
	if v.given(i, "passphrase") && v.ok(i, "passphrase") && !t.Passphrase.IsSet() {
		v.fail(i, "passphrase", "must not be empty")
	}
	if v.given(i, "shared_secret") && v.ok(i, "shared_secret") && !t.SharedSecret.IsSet() {
		v.fail(i, "shared_secret", "must not be empty")
	}
	for n, p := range t.PreviousPassphrases {
		if !p.IsSet() {
			v.fail(i, "previous_passphrases", "element %d: must not be empty", n+1)
			break
		}
	}
}

// fieldChecks runs the checks the tables' entries name (limits' ranges).
func (v *validator) fieldChecks(i int) {
	tunnelFields.check(v, i)
	for _, b := range nested {
		b.check(v, i)
	}
}

// duplicates refuses two tunnels with one name, and two tunnels whose
// listen addresses would take the same socket, unless SNI routes between
// them (then sniGroup checks them together).
func (v *validator) duplicates() {
	ts := v.c.Tunnels
	for i := range ts {
		for j := 0; j < i; j++ {
			if ts[i].Name == ts[j].Name {
				v.fail(i, "", "duplicate tunnel name; the first is at %s", ts[j].Pos)
				break
			}
		}
		for j := 0; j < i; j++ {
			if v.sharesListener(i, j) {
				v.sniGroup(i, j)
				continue
			}
			if overlaps(ts[i].Listen, ts[j].Listen) {
				v.fail(i, "listen", "%q overlaps listen %q of tunnel %q at %s%s",
					ts[i].Listen, ts[j].Listen, ts[j].Name, v.pos(j, "listen"), v.overlapHint(i, j))
				break
			}
		}
	}
}
