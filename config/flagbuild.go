package config

import (
	"flag"
	"fmt"
	"io/fs"
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
	c := &Config{Fields: map[string]Pos{}}
	topFields.defaults(c, mode)
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
	flagsInto(b, &topFields, c)
	tunnelFields.fromFlags(b, &t)
	for _, nb := range nested {
		nb.fromFlags(b, &t)
	}
	b.passphrase(&t)
	c.Tunnels = []Tunnel{t}

	errs := append(b.errs, validate(c, b.failed, true)...)
	errs.redact(b.secrets)
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	return c, nil
}

// fromFlags sets the block's given flags in t. A block that is absent until
// given (tls) is made, with its defaults, when one of its flags is given.
func (bl *block[B]) fromFlags(b *flagBuilder, t *Tunnel) {
	if bl.ptr != nil && !b.givenIn(bl.prefix()) {
		return
	}
	flagsInto(b, bl, bl.of(t, true))
}

// givenIn reports whether a flag of the block with this prefix was given.
func (b *flagBuilder) givenIn(prefix string) bool {
	for name := range b.given {
		if strings.HasPrefix(fieldFor(name), prefix) {
			return true
		}
	}
	return false
}

// flagsInto sets each field of dst whose flag was given; the others keep
// their defaults.
func flagsInto[B any](b *flagBuilder, bl *block[B], dst *B) {
	for _, f := range bl.fields {
		if names := flagNames(f.flag); len(names) > 0 && b.given[names[0]] {
			b.parse(names[0], f.at(dst))
		}
	}
}

func (b *flagBuilder) fail(flag, format string, args ...any) {
	field, ti := fieldFor(flag), 0
	if topLevel(field) {
		ti = -1
	}
	b.failed[fieldKey{ti, field}] = true
	b.errs = append(b.errs, Error{Pos: Pos{Flag: flag}, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// parse sets what p points at from the flag's value; p's type says how.
func (b *flagBuilder) parse(flag string, p any) {
	switch p := p.(type) {
	case *bool:
		*p = *b.f.b[flag]
	case *negBool:
		*p = negBool(!*b.f.b[flag])
	case *[]string:
		*p = b.f.l[flag].vals
	case *string:
		*p = *b.f.s[flag]
	case *int:
		b.integer(flag, p)
	case *float64:
		b.rate(flag, p)
	case *time.Duration:
		parsedFlag(b, flag, p, parseDuration)
	case *fs.FileMode:
		parsedFlag(b, flag, p, ParseListenMode)
	case *Address: // --listen, the only flag of this type
		parsedFlag(b, flag, p, ParseListenAddress)
	case *[]Address:
		b.addressesFlag(flag, p)
	case **Address:
		*p = &Address{}
		parsedFlag(b, flag, *p, ParseAddress)
	case *Secret, *[]Secret:
		// passphrase reads them: the flags say only where they are.
	default:
		panic(fmt.Sprintf("config: flag --%s: no parsing for %T", flag, p))
	}
}

// parsedFlag turns the flag's text into a T with parse, like parsed for HCL.
func parsedFlag[T any](b *flagBuilder, flag string, dst *T, parse func(string) (T, error)) {
	v, err := parse(*b.f.s[flag])
	if err != nil {
		b.fail(flag, "%v", err)
		return
	}
	*dst = v
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

// passphrase reads the secrets named by flags; the flags carry only where
// the secret is, never the secret.
func (b *flagBuilder) passphrase(t *Tunnel) {
	s := b.f.s
	if v, ok := b.fileOrEnv("passphrase"); ok {
		t.Passphrase = v
	}
	// The tls block exists: a --key-passphrase flag maps to tls.key_passphrase.
	if v, ok := b.fileOrEnv("key-passphrase"); ok && t.TLS != nil {
		t.TLS.KeyPassphrase = v
	}
	b.previousPassphrases(t)
	if b.given["shared-secret-env"] {
		t.SharedSecret, _ = b.secret("shared-secret-env", secretRef{"env", *s["shared-secret-env"]})
	}
	if b.given["connect-proxy-env"] {
		t.ConnectProxy, _ = b.secret("connect-proxy-env", secretRef{"env", *s["connect-proxy-env"]})
	}
}

// fileOrEnv reads the secret that the flag pair --NAME-file / --NAME-env
// names, if one of them was given.
func (b *flagBuilder) fileOrEnv(name string) (Secret, bool) {
	file, env := name+"-file", name+"-env"
	switch {
	case b.given[file] && b.given[env]:
		b.fail(env, "give one of --%s and --%s", file, env)
	case b.given[file]:
		v, _ := b.secret(file, secretRef{"file", *b.f.s[file]})
		return v, true
	case b.given[env]:
		v, _ := b.secret(env, secretRef{"env", *b.f.s[env]})
		return v, true
	}
	return Secret{}, false
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
