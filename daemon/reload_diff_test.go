package daemon

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// parseTunnels decodes an HCL config held in a string.
func parseTunnels(t *testing.T, src string) []config.Tunnel {
	t.Helper()
	cfg, err := config.Parse([]byte(src), filepath.Join(t.TempDir(), "c.hcl"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg.Tunnels
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func pointers(ts []config.Tunnel) []*config.Tunnel {
	out := make([]*config.Tunnel, len(ts))
	for i := range ts {
		out[i] = &ts[i]
	}
	return out
}

func names(ts []*config.Tunnel) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

const diffBase = `
tunnel "keep" {
  mode   = "client"
  listen = "127.0.0.1:7001"
  target = "db:1"
  tls { insecure_skip_verify = true }
}
tunnel "edit" {
  mode   = "client"
  listen = "127.0.0.1:7002"
  target = "db:2"
  tls { insecure_skip_verify = true }
}
tunnel "drop" {
  mode   = "client"
  listen = "127.0.0.1:7003"
  target = "db:3"
  tls { insecure_skip_verify = true }
}
`

func TestPlanReload(t *testing.T) {
	running := parseTunnels(t, diffBase)
	// A comment shifts every position; "keep" stays as it is, "edit" gets
	// a new target, "drop" goes and "new" arrives.
	edited := strings.Replace(diffBase, `target = "db:2"`, `target = "db:22"`, 1)
	edited = edited[:strings.Index(edited, `tunnel "drop"`)]
	next := parseTunnels(t, `
# a comment
tunnel "new" {
  mode   = "client"
  listen = "127.0.0.1:7004"
  target = "db:4"
  tls { insecure_skip_verify = true }
}
`+edited)
	p := planReload(pointers(running), next)
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"added", names(p.added), []string{"new"}},
		{"changed", names(p.changed), []string{"edit"}},
		{"unchanged", names(p.unchanged), []string{"keep"}},
		{"removed", p.removed, []string{"drop"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if p.unchanged[0] != &next[1] {
		t.Error("unchanged entries should be the new config's tunnels (current positions)")
	}
}

func TestSameTunnel(t *testing.T) {
	base := parseTunnels(t, diffBase)[0]
	for _, c := range []struct {
		name string
		edit func(*config.Tunnel)
		same bool
	}{
		{"positions only", func(t *config.Tunnel) {
			t.Pos.Line += 3
			t.Fields = map[string]config.Pos{"listen": {Line: 9}}
			t.TLS.Pos.Line++
		}, true},
		{"limit", func(t *config.Tunnel) { t.Limits.MaxConnections++ }, false},
		{"tls setting", func(t *config.Tunnel) { t.TLS.MinVersion = "1.3" }, false},
		{"tls block dropped", func(t *config.Tunnel) { t.TLS = nil }, false},
		{"listen", func(t *config.Tunnel) { t.Listen.Addr = "127.0.0.1:7999" }, false},
		{"secret value", func(t *config.Tunnel) {
			t.Passphrase = config.NewSecret("another value entirely", t.Passphrase.Source)
		}, false},
		{"allow", func(t *config.Tunnel) { t.Allow.CN = []string{"x"} }, false},
	} {
		edited := base
		tls := *base.TLS
		edited.TLS = &tls
		c.edit(&edited)
		if got := sameTunnel(&base, &edited); got != c.same {
			t.Errorf("%s: sameTunnel = %v, want %v", c.name, got, c.same)
		}
	}
	if base.TLS.Pos.Line == 0 || base.Pos.Line == 0 {
		t.Error("sameTunnel must not clear the positions of the configs it compares")
	}
}

func TestPlanReloadSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	src := `tunnel "p" {
  mode       = "server"
  listen     = "127.0.0.1:7005"
  target     = "127.0.0.1:7006"
  passphrase = file("pass")
}
`
	load := func(passphrase string) []config.Tunnel {
		writeFile(t, filepath.Join(dir, "pass"), passphrase+"\n")
		cfg, err := config.Parse([]byte(src), filepath.Join(dir, "c.hcl"))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		return cfg.Tunnels
	}
	running := load("correct horse battery staple")
	if p := planReload(pointers(running), load("correct horse battery staple")); len(p.unchanged) != 1 {
		t.Errorf("same passphrase file: changed %q, want it unchanged", names(p.changed))
	}
	if p := planReload(pointers(running), load("a rotated passphrase of some length")); len(p.changed) != 1 {
		t.Errorf("new passphrase in the file: unchanged %q, want it changed", names(p.unchanged))
	}
}
