package pki

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testlog"
)

func selfSignedTunnel(name string) *config.Tunnel {
	return &config.Tunnel{Name: name, Mode: config.ModeServer, Pos: config.Pos{File: "x.hcl", Line: 1, Column: 1},
		Fields: map[string]config.Pos{"tls.self_signed": {File: "x.hcl", Line: 6, Column: 5}},
		TLS:    &config.TLS{SelfSigned: true, ClientAuth: "none"}}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestSelfSignedIsKeptAndReused(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	var log1, log2 testlog.Buffer
	m1 := NewManager(Options{StateDir: state, Logger: textLogger(&log1)})
	c1, err := m1.selfSigned(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	fp := Fingerprint(c1.Leaf.Raw)
	// A restart: another Manager on the same state directory.
	m2 := NewManager(Options{StateDir: state, Logger: textLogger(&log2)})
	c2, err := m2.selfSigned(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	if got := Fingerprint(c2.Leaf.Raw); got != fp {
		t.Fatalf("fingerprint after restart %s, want %s", got, fp)
	}
	crt := filepath.Join(state, "self-signed", "web.crt")
	key := filepath.Join(state, "self-signed", "web.key")
	for path, want := range map[string]os.FileMode{key: 0o600, filepath.Dir(key): 0o700, state: 0o700} {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
	for _, l := range []*testlog.Buffer{&log1, &log2} {
		for _, want := range []string{`msg="self-signed certificate"`, "tunnel=web", "fingerprint=" + fp, "file=" + crt} {
			if !strings.Contains(l.String(), want) {
				t.Errorf("log %q lacks %s", l.String(), want)
			}
		}
	}
	leaf := c1.Leaf
	if !slices.Contains(leaf.DNSNames, "localhost") || len(leaf.IPAddresses) != 2 ||
		!leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || !leaf.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("names: DNS %v, IP %v", leaf.DNSNames, leaf.IPAddresses)
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	other, err := m2.selfSigned(selfSignedTunnel("api"))
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(other.Leaf.Raw) == fp {
		t.Error("two tunnels share one certificate")
	}
}

func TestSelfSignedBrokenFileIsNotReplaced(t *testing.T) {
	state := t.TempDir()
	m := NewManager(Options{StateDir: state})
	if _, err := m.selfSigned(selfSignedTunnel("web")); err != nil {
		t.Fatal(err)
	}
	crt := filepath.Join(state, "self-signed", "web.crt")
	if err := os.WriteFile(crt, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := m.selfSigned(selfSignedTunnel("web"))
	want := `x.hcl:6:5: tunnel "web": tls.self_signed: certificate file "` + crt + `": no PEM certificate found, and not a DER certificate either`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "fingerprint will change") {
		t.Fatalf("error:\n got %v\nwant prefix %s", err, want)
	}
	if string(readTestFile(t, crt)) != "garbage" {
		t.Error("a broken certificate was overwritten: pinned clients would break silently")
	}
}

func TestSelfSignedRenewedWhenExpired(t *testing.T) {
	state := t.TempDir()
	clock := &fakeClock{now: time.Now()}
	var log testlog.Buffer
	m := NewManager(Options{StateDir: state, Now: clock.Now, Logger: textLogger(&log)})
	c1, err := m.selfSigned(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(selfSignedValidity + time.Hour)
	c2, err := m.selfSigned(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(c1.Leaf.Raw) == Fingerprint(c2.Leaf.Raw) || !strings.Contains(log.String(), "self-signed certificate expired") {
		t.Errorf("expired certificate not replaced with a warning; log: %s", log.String())
	}
}

func TestResolveStateDir(t *testing.T) {
	tmp := t.TempDir()
	explicit := filepath.Join(tmp, "a", "b")
	if got, err := ResolveStateDir(explicit); err != nil || got != explicit || mode(t, explicit) != 0o700 {
		t.Fatalf("explicit: %q, %v", got, err)
	}
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// An explicit directory that cannot be used is an error, not a fallback.
	if _, err := ResolveStateDir(filepath.Join(file, "x")); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("unusable explicit directory: %v", err)
	}
	// The default falls back to the user's state directory.
	unusable := filepath.Join(file, "default")
	xdg := filepath.Join(tmp, "xdg")
	t.Setenv("XDG_STATE_HOME", xdg)
	for _, flag := range []string{"", unusable} {
		if got, err := resolveStateDir(flag, unusable); err != nil || got != filepath.Join(xdg, "passtunnel") {
			t.Errorf("default %q with XDG_STATE_HOME: %q, %v", flag, got, err)
		}
	}
	home := filepath.Join(tmp, "home")
	t.Setenv("XDG_STATE_HOME", "relative/is/ignored")
	t.Setenv("HOME", home)
	if got, err := resolveStateDir("", unusable); err != nil || got != filepath.Join(home, ".local", "state", "passtunnel") {
		t.Errorf("default with HOME: %q, %v", got, err)
	}
	t.Setenv("HOME", filepath.Join(file, "home"))
	if _, err := resolveStateDir("", unusable); err == nil || !strings.Contains(err.Error(), "--state-dir") {
		t.Errorf("nothing usable: %v", err)
	}
}

// A read-only Manager (passtunnel check) makes no state directory and no
// file: without a kept pair it uses one made in memory; with one, that one.
func TestSelfSignedReadOnly(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	check := NewManager(Options{StateDir: state, ReadOnly: true})
	if _, err := check.ServerTLSConfig(selfSignedTunnel("web")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("a read-only Manager made %s (stat: %v)", state, err)
	}
	kept, err := NewManager(Options{StateDir: state}).selfSigned(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	seen, err := check.selfSigned(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Fingerprint(seen.Leaf.Raw), Fingerprint(kept.Leaf.Raw); got != want {
		t.Fatalf("read-only Manager presents %s, the kept certificate is %s", got, want)
	}
}
