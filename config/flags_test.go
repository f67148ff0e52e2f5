package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func fromFlags(t *testing.T, mode Mode, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet(string(mode), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := BindFlags(fs, mode)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("flag parse: %v", err)
	}
	return build()
}

func TestFlagsServer(t *testing.T) {
	c, err := fromFlags(t, ModeServer, "--name", "redis", "--listen", "0.0.0.0:6380", "--target", "127.0.0.1:6379",
		"--cert", "tls.crt", "--key", "tls.key", "--ca", "ca.crt", "--client-auth", "request",
		"--min-version", "1.3", "--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		"--curves", "X25519,P-256", "--alpn", "h2", "--alpn", "http/1.1", "--max-connections", "5", "--per-source-handshakes", "0",
		"--max-handshakes", "12", "--handshake-timeout", "3s", "--idle-timeout", "1m", "--drain-timeout", "0s", "--log-level", "debug",
		"--log-format", "json", "--min-version", "1.2")
	if err != nil {
		t.Fatal(err)
	}
	want := newTunnel("redis", ModeServer)
	want.Listen = Address{NetTCP, "0.0.0.0:6380"}
	want.Target = Address{NetTCP, "127.0.0.1:6379"}
	want.Targets = []Address{want.Target}
	want.TLS = &TLS{Cert: "tls.crt", Key: "tls.key", CA: "ca.crt", ClientAuth: "request", MinVersion: "1.2", MaxVersion: "1.3", SessionLifetime: DefaultSessionLifetime, Verify: VerifyChain,
		CipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
		Curves:       []string{"X25519", "P-256"}, ALPN: []string{"h2", "http/1.1"}}
	want.Limits.MaxConnections = 5
	want.Limits.PerSourceHandshakes = 0
	want.Limits.MaxHandshakes = 12
	want.Limits.HandshakeTimeout = 3 * time.Second
	want.Limits.IdleTimeout = time.Minute
	want.Limits.DrainTimeout = 0
	got := c.Tunnels[0]
	if p := got.Fields["limits.handshake_timeout"]; p != (Pos{Flag: "handshake-timeout"}) {
		t.Errorf("position of handshake_timeout = %v", p)
	}
	if _, ok := got.Fields["limits.connect_timeout"]; ok {
		t.Errorf("a flag left at its default is recorded as given")
	}
	got.Fields, want.Fields = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tunnel:\n got %#v\nwant %#v\ntls %#v", got, want, *got.TLS)
	}
	if len(c.Tunnels) != 1 || c.File != "" || c.LogLevel != "debug" || c.LogFormat != "json" || c.Fields["log_level"] != (Pos{Flag: "log-level"}) {
		t.Errorf("config = %+v", c)
	}
}

func TestFlagsClient(t *testing.T) {
	c, err := fromFlags(t, ModeClient, "--listen", "127.0.0.1:6379", "--target", "unix:/run/tls.sock",
		"--ca", "ca.crt", "--server-name", "db.internal")
	if err != nil {
		t.Fatal(err)
	}
	tu := c.Tunnels[0]
	if tu.Name != "client" || tu.Mode != ModeClient || tu.Target != (Address{NetUnix, "/run/tls.sock"}) {
		t.Errorf("tunnel = %+v", tu)
	}
	if !reflect.DeepEqual(tu.TLS, &TLS{CA: "ca.crt", ServerName: "db.internal", MinVersion: "1.2", MaxVersion: "1.3", SessionLifetime: DefaultSessionLifetime, Verify: VerifyName}) {
		t.Errorf("tls = %+v", tu.TLS)
	}
	if c.LogLevel != "info" || tu.Limits != DefaultLimits() {
		t.Errorf("defaults: %q %+v", c.LogLevel, tu.Limits)
	}
}

func TestFlagErrors(t *testing.T) {
	dir := secretDir(t)
	secretFile := filepath.Join(dir, "p")
	client := []string{"--listen", "127.0.0.1:0", "--target", "db:1"}
	cases := []struct {
		mode Mode
		args []string
		want []string
	}{
		{ModeServer, []string{"--listen", ":0", "--handshake-timeout", "10x"}, []string{
			`flag --handshake-timeout: invalid duration "10x"`,
			`flag --target: missing; want host:port or unix:/path`,
			`flag --cert: a server tunnel needs an identity: set --cert (and --key) or --passphrase-file`,
			`flag --ca: --client-auth=require needs --ca to verify client certificates; set it, or --client-auth=none to accept any client`,
		}},
		{ModeClient, client, []string{
			`flag --ca: a client tunnel that verifies nothing is refused: set --ca, --system-roots or --passphrase-file (or --insecure-skip-verify to encrypt without verifying, for debugging only)`,
		}},
		{ModeClient, append(client, "--system-roots", "--insecure-skip-verify", "--client-auth", "none", "--max-connections", "x",
			"--accept-rate", "-1", "--connect-timeout", "-2s", "--per-source-handshakes", "-1", "--max-handshakes", "-1"), []string{
			`flag --max-connections: invalid number "x"`,
			`flag --accept-rate: must not be negative (0 means unlimited)`,
			`flag --per-source-handshakes: must not be negative (0 means no limit)`,
			`flag --connect-timeout: must not be negative`,
			`flag --max-handshakes: must not be negative (0 means sized to the CPUs)`,
			`flag --client-auth: only meaningful in server mode`,
			`flag --insecure-skip-verify: conflicts with --system-roots: it would turn that verification off`,
		}},
		{ModeClient, []string{"--listen", "::1:80", "--target", "db", "--log-level", "loud", "--name", "a b", "--max-connections", "0",
			"--per-source-handshakes", "1.5", "--ca", "ca", "--cipher-suites", "TLS_FOO", "--curves", "P-1", "--min-version", "1.0"}, []string{
			`flag --listen: invalid address "::1:80": an IPv6 address needs brackets and a port, like "[::1]:443"`,
			`flag --target: invalid address "db": want host:port or unix:/path`,
			`flag --per-source-handshakes: invalid number "1.5"`,
			`flag --log-level: invalid value "loud"; want debug, info, warn or error`,
			`flag --name: invalid tunnel name "a b"; use letters, digits, '.', '_' and '-'`,
			`flag --max-connections: must be at least 1, not 0`,
			`flag --min-version: invalid TLS version "1.0"; want "1.2" or "1.3"`,
			`flag --cipher-suites: unknown cipher suite "TLS_FOO"`,
			`flag --curves: unknown curve "P-1"; want X25519, X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024, P-256, P-384 or P-521`,
		}},
		{ModeServer, []string{"--listen", ":0", "--target", "h:1", "--passphrase-env", "PT_TEST_SECRET", "--passphrase-file", secretFile}, []string{
			`flag --passphrase-env: give one of --passphrase-file and --passphrase-env`,
		}},
		{ModeServer, []string{"--listen", ":0", "--target", "h:1", "--passphrase-file", filepath.Join(dir, "missing")}, []string{
			`flag --passphrase-file: file("` + filepath.Join(dir, "missing") + `"): cannot read ` + filepath.Join(dir, "missing") + `: no such file or directory`,
		}},
		{ModeServer, []string{"--listen", ":0", "--target", "h:1", "--passphrase-env", "PT_TEST_SECRET", "--cert", "c",
			"--shared-secret-env", "PT_TEST_SECRET", "--cluster", "prod", "--allow-weak-passphrase", "--self-signed",
			"--admin", "127.0.0.1:0", "--accept-rate", "1", "--per-source-rate", "2", "--pin", "SHA256" + strings.Repeat(":0f", 32),
			"--allow-cn", "a", "--allow-dns", "b", "--allow-uri", "c", "--allow-ou", "d"}, []string{
			`flag --cert: conflicts with --passphrase-env: ` + ppIdentity,
			`flag --self-signed: conflicts with --passphrase-env: ` + ppIdentity,
			`flag --pin: conflicts with --passphrase-env: ` + ppTrust,
		}},
	}
	for _, tc := range cases {
		c, err := fromFlags(t, tc.mode, tc.args...)
		if err == nil {
			t.Errorf("%v: accepted: %+v", tc.args, c)
			continue
		}
		var es Errors
		if !errors.As(err, &es) {
			t.Errorf("%v: error is %T, not Errors", tc.args, err)
		}
		if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
			t.Errorf("%v: errors:\n%s\nwant:\n%s", tc.args, got, want)
		}
		if strings.Contains(err.Error(), secretValue) {
			t.Errorf("%v: error shows the secret", tc.args)
		}
	}
}

// A secret given on the command line would show in `ps`: no flag takes one.
func TestNoFlagTakesASecret(t *testing.T) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	BindFlags(fs, ModeServer)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if fieldFor(f.Name) == "" && f.Name != "name" {
			t.Errorf("flag --%s maps to no HCL field", f.Name)
		}
		if !strings.Contains(f.Name, "passphrase") && !strings.Contains(f.Name, "secret") {
			return
		}
		if !strings.HasSuffix(f.Name, "-file") && !strings.HasSuffix(f.Name, "-env") && f.Name != "allow-weak-passphrase" {
			t.Errorf("flag --%s looks like it takes a secret value", f.Name)
		}
	})
	if n != len(flagIndex.field)+1 {
		t.Errorf("%d flags registered, tables have %d (+ --name)", n, len(flagIndex.field))
	}
}

func TestFlagUsageShowsDefaults(t *testing.T) {
	var out bytes.Buffer
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(&out)
	BindFlags(fs, ModeServer)
	fs.PrintDefaults()
	for _, want := range []string{
		"-handshake-timeout DURATION", `(default "10s")`, `(default "1024")`, `-client-auth MODE`,
		`(default "require")`, "-cert FILE", "-pin FINGERPRINT",
		"-previous-passphrase-file FILE", "-previous-passphrase-env VARIABLE",
		"-session-resumption\n", "full handshake (default true)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

// --session-resumption is on by default and =false turns it off, for
// certificate files and passphrases alike; given, it is the position of
// tls.session_resumption.
func TestFlagsSessionResumption(t *testing.T) {
	secretDir(t)
	cases := []struct {
		mode Mode
		args []string
		off  bool
	}{
		{ModeClient, []string{"--ca", "ca.crt"}, false},
		{ModeClient, []string{"--ca", "ca.crt", "--session-resumption"}, false},
		{ModeClient, []string{"--ca", "ca.crt", "--session-resumption=false"}, true},
		{ModeServer, []string{"--cert", "c.pem", "--ca", "ca.crt", "--session-resumption=false"}, true},
		{ModeServer, []string{"--passphrase-env", "PT_TEST_SECRET", "--session-resumption=false"}, true},
		{ModeClient, []string{"--passphrase-env", "PT_TEST_SECRET", "--session-resumption=false"}, true},
	}
	for _, tc := range cases {
		args := append([]string{"--listen", "127.0.0.1:0", "--target", "db:6380"}, tc.args...)
		c, err := fromFlags(t, tc.mode, args...)
		if err != nil {
			t.Errorf("%s %v: %v", tc.mode, tc.args, err)
			continue
		}
		tu := c.Tunnels[0]
		if tu.TLS == nil || tu.TLS.SessionResumptionDisabled != tc.off {
			t.Errorf("%s %v: tls %+v, want resumption disabled %v", tc.mode, tc.args, tu.TLS, tc.off)
			continue
		}
		p, given := tu.Fields["tls.session_resumption"]
		if want := strings.Contains(strings.Join(tc.args, " "), "session-resumption"); given != want || given && p != (Pos{Flag: "session-resumption"}) {
			t.Errorf("%s %v: position %v (given %v)", tc.mode, tc.args, p, given)
		}
	}
	// The flag alone is a tls setting: a passphrase tunnel gets a tls block
	// with the other defaults (TLS 1.3 only, as for every passphrase tunnel).
	c, err := fromFlags(t, ModeServer, "--listen", ":0", "--target", "h:1", "--passphrase-env", "PT_TEST_SECRET", "--session-resumption=false")
	if err != nil {
		t.Fatal(err)
	}
	if tl := c.Tunnels[0].TLS; tl.ClientAuth != "require" || tl.MinVersion != "1.3" || tl.MaxVersion != "1.3" {
		t.Errorf("tls = %+v", tl)
	}
}

// The passphrase flags have landed: their help must not say otherwise.
func TestPassphraseFlagsSupported(t *testing.T) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	BindFlags(fs, ModeServer)
	for _, name := range []string{"passphrase-file", "passphrase-env", "previous-passphrase-file",
		"previous-passphrase-env", "cluster", "allow-weak-passphrase"} {
		if f := fs.Lookup(name); f == nil || strings.Contains(f.Usage, "not supported") {
			t.Errorf("--%s: missing or still 'not supported': %v", name, f)
		}
	}
	for _, name := range []string{"shared-secret-env", "pin", "self-signed", "allow-cn", "allow-dns", "allow-uri", "allow-ou",
		"admin"} {
		if f := fs.Lookup(name); f == nil || strings.Contains(f.Usage, "not supported") {
			t.Errorf("--%s: missing or still 'not supported': %v", name, f)
		}
	}
}

func TestFlagsPassphrase(t *testing.T) {
	dir := secretDir(t)
	write(t, filepath.Join(dir, "old1"), "first older passphrase\n")
	write(t, filepath.Join(dir, "old2"), "second older passphrase\n")
	t.Setenv("PT_TEST_OLD", "older passphrase from env")
	c, err := fromFlags(t, ModeServer, "--listen", ":0", "--target", "h:1", "--passphrase-file", filepath.Join(dir, "p"),
		"--previous-passphrase-file", filepath.Join(dir, "old1"), "--previous-passphrase-env", "PT_TEST_OLD",
		"--previous-passphrase-file", filepath.Join(dir, "old2"), "--cluster", "prod", "--allow-weak-passphrase",
		"--min-version", "1.3", "--curves", "SecP256r1MLKEM768", "--alpn", "redis")
	if err != nil {
		t.Fatal(err)
	}
	tu := c.Tunnels[0]
	if tu.Passphrase.Reveal() != secretValue || tu.Passphrase.Source != `file("`+filepath.Join(dir, "p")+`")` {
		t.Errorf("passphrase from %s, value matches: %v", tu.Passphrase.Source, tu.Passphrase.Reveal() == secretValue)
	}
	// Previous passphrases keep command-line order across the two flags.
	want := []string{"first older passphrase", "older passphrase from env", "second older passphrase"}
	if len(tu.PreviousPassphrases) != len(want) {
		t.Fatalf("%d previous passphrases, want %d", len(tu.PreviousPassphrases), len(want))
	}
	for i, w := range want {
		if got := tu.PreviousPassphrases[i].Reveal(); got != w {
			t.Errorf("previous passphrase %d = %q (from %s), want %q", i+1, got, tu.PreviousPassphrases[i].Source, w)
		}
	}
	if tu.PreviousPassphrases[1].Source != `env("PT_TEST_OLD")` {
		t.Errorf("source %s", tu.PreviousPassphrases[1].Source)
	}
	if tu.Cluster != "prod" || !tu.AllowWeakPassphrase || tu.TLS.Cert != "" || tu.TLS.ClientAuth != "require" {
		t.Errorf("tunnel = %+v, tls %+v", tu, tu.TLS)
	}
	if _, err := fromFlags(t, ModeClient, "--listen", "127.0.0.1:0", "--target", "unix:/run/s.sock",
		"--passphrase-env", "PT_TEST_SECRET", "--server-name", "db"); err != nil {
		t.Errorf("client with a passphrase: %v", err)
	}
}

func TestFlagPassphraseErrors(t *testing.T) {
	dir := secretDir(t)
	missing := filepath.Join(dir, "missing")
	srv := []string{"--listen", ":0", "--target", "h:1"}
	cli := []string{"--listen", "127.0.0.1:0", "--target", "db:1"}
	cases := []struct {
		mode Mode
		args []string
		want []string
	}{
		{ModeServer, append(srv, "--passphrase-env", "PT_TEST_SECRET", "--ca", "ca.pem", "--key", "k.pem", "--client-auth", "none"), []string{
			`flag --key: conflicts with --passphrase-env: ` + ppIdentity,
			`flag --ca: conflicts with --passphrase-env: ` + ppTrust,
			`flag --client-auth: conflicts with --passphrase-env: a passphrase tunnel always requires and verifies client certificates; leave it out or set --client-auth=require`,
		}},
		{ModeClient, append(cli, "--passphrase-file", filepath.Join(dir, "p"), "--system-roots", "--insecure-skip-verify"), []string{
			`flag --system-roots: conflicts with --passphrase-file: ` + ppTrust,
			`flag --insecure-skip-verify: conflicts with --passphrase-file: ` + ppTrust,
		}},
		{ModeClient, append(cli, "--ca", "ca.pem", "--previous-passphrase-env", "PT_TEST_SECRET", "--allow-weak-passphrase"), []string{
			`flag --previous-passphrase-env: needs --passphrase-file: previous passphrases are trusted only beside a current one`,
			`flag --allow-weak-passphrase: needs --passphrase-file or --shared-secret-env: there is no secret to relax the policy for`,
		}},
		{ModeClient, append(cli, "--passphrase-env", "PT_TEST_SECRET", "--previous-passphrase-file", filepath.Join(dir, "p"),
			"--previous-passphrase-file", missing, "--previous-passphrase-env", "PT_TEST_UNSET"), []string{
			`flag --previous-passphrase-file: file("` + missing + `"): cannot read ` + missing + `: no such file or directory`,
			`flag --previous-passphrase-env: env("PT_TEST_UNSET"): environment variable PT_TEST_UNSET is not set`,
		}},
	}
	for _, tc := range cases {
		c, err := fromFlags(t, tc.mode, tc.args...)
		if err == nil {
			t.Errorf("%v: accepted: %+v", tc.args, c)
			continue
		}
		if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
			t.Errorf("%v: errors:\n%s\nwant:\n%s", tc.args, got, want)
		}
		if strings.Contains(err.Error(), secretValue) {
			t.Errorf("%v: error shows the secret", tc.args)
		}
	}
}
