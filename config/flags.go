package config

import (
	"flag"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// BindFlags registers the flags of `passtunnel server` or `passtunnel client`
// on fs and returns a function that, after fs.Parse, builds and validates a
// one-tunnel Config named after the mode. The flags mirror the HCL names with
// dashes (tls.server_name is --server-name, limits.idle_timeout is
// --idle-timeout); each help text shows its default, so fs.PrintDefaults is
// the usage. No flag takes a secret itself, since a command line shows in
// `ps`: secrets come from a file or an environment variable.
// Errors read `flag --NAME: message` and come as Errors.
func (l Loader) BindFlags(fs *flag.FlagSet, mode Mode) func() (*Config, error) {
	f := &flagValues{env: l.Env, s: map[string]*string{}, b: map[string]*bool{}, l: map[string]*listFlag{}}
	f.register(fs, mode)
	return func() (*Config, error) { return f.build(fs, mode) }
}

// flagValues holds the registered flags by name.
type flagValues struct {
	env  *Environ
	s    map[string]*string
	b    map[string]*bool
	l    map[string]*listFlag
	prev []secretRef // --previous-passphrase-file and -env, in command-line order
}

// register registers --name, every flag of the tables, and the flags that
// name a secret.
func (f *flagValues) register(fs *flag.FlagSet, mode Mode) {
	f.s["name"] = fs.String("name", string(mode), "tunnel `NAME` in logs and metrics")
	for _, b := range blocks {
		for _, s := range b.settings(mode) {
			if s.flag != "" {
				f.registerSetting(fs, s)
			}
		}
	}
	f.registerSecrets(fs)
}

// registerSetting registers the flag of one setting, its default being the
// setting's. Values that need parsing are string flags, parsed by build, so
// that -h shows their default as the user writes it.
func (f *flagValues) registerSetting(fs *flag.FlagSet, s setting) {
	name := s.flags()[0]
	switch def := s.def.(type) {
	case *bool:
		f.b[name] = fs.Bool(name, *def, s.usage)
	case *negBool:
		f.b[name] = fs.Bool(name, !bool(*def), s.usage)
	case *[]string, *[]Address:
		f.l[name] = &listFlag{comma: s.comma}
		fs.Var(f.l[name], name, s.usage)
	case *Secret, *[]Secret:
		// registerSecrets: a secret is read from a file or a variable.
	default:
		f.s[name] = fs.String(name, flagText(def), s.usage)
	}
}

// flagText is the value p points at as a flag's text.
func flagText(p any) string {
	switch p := p.(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	case *time.Duration:
		return p.String()
	case *fs.FileMode:
		return fmt.Sprintf("%04o", *p)
	case *Address, **Address:
		return ""
	}
	panic(fmt.Sprintf("config: no flag text for %T", p))
}

// registerSecrets registers the flags that say where a secret is: the
// value itself never is a flag, since a command line shows in `ps`.
func (f *flagValues) registerSecrets(fs *flag.FlagSet) {
	f.s["passphrase-file"] = fs.String("passphrase-file", "", "read the cluster passphrase from `FILE`")
	f.s["passphrase-env"] = fs.String("passphrase-env", "", "read the cluster passphrase from environment `VARIABLE`")
	fs.Var(&refFlag{kind: "file", refs: &f.prev}, "previous-passphrase-file",
		"read a previous passphrase, still trusted during a rotation, from `FILE` (repeatable)")
	fs.Var(&refFlag{kind: "env", refs: &f.prev}, "previous-passphrase-env",
		"read a previous passphrase, still trusted during a rotation, from environment `VARIABLE` (repeatable)")
	f.s["key-passphrase-file"] = fs.String("key-passphrase-file", "", "read the password of an encrypted --key or --pkcs12 from `FILE`")
	f.s["key-passphrase-env"] = fs.String("key-passphrase-env", "",
		"read the password of an encrypted --key or --pkcs12 from environment `VARIABLE`")
	f.s["shared-secret-env"] = fs.String("shared-secret-env", "",
		"read the channel-bound shared secret from environment `VARIABLE` (both ends passtunnel)")
	f.s["connect-proxy-env"] = fs.String("connect-proxy-env", "",
		"client: reach the target through the HTTP CONNECT proxy whose URL is in environment `VARIABLE`")
}

// listFlag is a repeatable flag; with comma set, one value may also hold
// several entries separated by commas.
type listFlag struct {
	vals  []string
	comma bool
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

func (l *listFlag) Set(s string) error {
	if !l.comma {
		l.vals = append(l.vals, s)
		return nil
	}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			l.vals = append(l.vals, p)
		}
	}
	return nil
}

// secretRef names where one secret is: kind "file" (a path) or "env" (a
// variable). The flags hold only this, never the secret.
type secretRef struct{ kind, where string }

// refFlag is a repeatable flag adding secretRefs of one kind to a list that
// the flag of the other kind shares, so the list keeps command-line order
// across both.
type refFlag struct {
	kind string
	refs *[]secretRef
}

// String shows the paths or variable names given, never a secret.
func (r *refFlag) String() string {
	if r == nil || r.refs == nil {
		return ""
	}
	var out []string
	for _, ref := range *r.refs {
		if ref.kind == r.kind {
			out = append(out, ref.where)
		}
	}
	return strings.Join(out, ",")
}

func (r *refFlag) Set(s string) error {
	*r.refs = append(*r.refs, secretRef{kind: r.kind, where: s})
	return nil
}
