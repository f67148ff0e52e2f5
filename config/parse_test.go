package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestLoadFullConfig(t *testing.T) {
	t.Setenv("PT_TEST_DIR", "/etc/client")
	path := filepath.Join("testdata", "full.hcl")
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	server := Tunnel{
		Name:                "redis",
		Mode:                ModeServer,
		Listen:              Address{Network: NetTCP, Addr: "[::1]:6380"},
		Targets:             []Address{{Network: NetUnix, Addr: "/run/redis.sock"}},
		Target:              Address{Network: NetUnix, Addr: "/run/redis.sock"},
		Balance:             BalanceFailover,
		ListenMode:          DefaultListenMode,
		PreviousPassphrases: []Secret{},
		Cluster:             "passtunnel",
		TLS: &TLS{
			// relative to the config file: testdata/
			Cert: "testdata/tls.crt", Key: "testdata/tls.key", CA: "testdata/ca.crt", ClientAuth: "request",
			Pin: []string{}, MinVersion: "1.3", MaxVersion: "1.3", CipherSuites: []string{}, SessionLifetime: DefaultSessionLifetime, Verify: VerifyChain,
			Curves: []string{"X25519MLKEM768", "secp256r1"}, ALPN: []string{"h2", "http/1.1"},
		},
		Allow: Allow{CN: []string{}, DNS: []string{}, URI: []string{}, OU: []string{}},
		Limits: Limits{MaxConnections: 7, PerSourceHandshakes: 3, HandshakeTimeout: 3 * time.Second, ConnectTimeout: 4 * time.Second,
			IdleTimeout: 5 * time.Minute, MaxLifetime: time.Hour, CloseTimeout: time.Minute, WriteTimeout: 5 * time.Minute},
		ProxyProtocol: ProxyProtocol{Accept: "none", Trusted: []string{}, Send: "none"},
		Transparent:   Transparent{Mode: TransparentNone, Mark: DefaultMark},
	}
	client := Tunnel{
		Name:       "redis-client",
		Mode:       ModeClient,
		Listen:     Address{Network: NetTCP, Addr: "127.0.0.1:6379"},
		Targets:    []Address{{Network: NetTCP, Addr: "db.internal:6380"}},
		Target:     Address{Network: NetTCP, Addr: "db.internal:6380"},
		Balance:    BalanceFailover,
		ListenMode: DefaultListenMode,
		// Cluster is stored even though passphrases are not built yet.
		Cluster: "passtunnel",
		TLS: &TLS{
			Cert: "/etc/client/client.crt", CA: "/etc/passtunnel/ca.crt", ServerName: "db.internal",
			MinVersion: "1.2", MaxVersion: "1.3", SessionLifetime: DefaultSessionLifetime, Verify: VerifyName,
			CipherSuites:              []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
			SessionResumptionDisabled: true,
		},
		Limits:        DefaultLimits(),
		ProxyProtocol: ProxyProtocol{Accept: "none", Send: "none"},
		Transparent:   Transparent{Mode: TransparentNone, Mark: DefaultMark},
	}
	if c.File != path || c.LogLevel != "debug" || c.LogFormat != "json" || c.Admin != nil {
		t.Errorf("top level = %q %q %q %v", c.File, c.LogLevel, c.LogFormat, c.Admin)
	}
	if len(c.Tunnels) != 2 {
		t.Fatalf("got %d tunnels, want 2", len(c.Tunnels))
	}
	for i, want := range []Tunnel{server, client} {
		got := c.Tunnels[i]
		// Positions are checked on their own below.
		tls := *got.TLS
		got.Pos, got.Fields, got.TLS, tls.Pos = Pos{}, nil, &tls, Pos{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("tunnel %d:\n got %#v\nwant %#v\n tls %#v\nwant %#v", i, got, want, *got.TLS, *want.TLS)
		}
	}
	checkPositions(t, c, path)
}

func checkPositions(t *testing.T, c *Config, path string) {
	t.Helper()
	at := func(line, col int) Pos { return Pos{File: path, Line: line, Column: col} }
	checks := []struct {
		got, want Pos
	}{
		{c.Fields["log_format"], at(3, 1)},
		{c.Tunnels[0].Pos, at(5, 1)},
		{c.Tunnels[0].Fields["listen"], at(7, 3)},
		{c.Tunnels[0].Fields["tls"], at(14, 3)},
		{c.Tunnels[0].TLS.Pos, at(14, 3)},
		{c.Tunnels[0].Fields["tls.curves"], at(24, 5)},
		{c.Tunnels[0].Fields["limits.per_source_handshakes"], at(39, 5)},
		{c.Tunnels[0].Fields["limits.idle_timeout"], at(42, 5)},
		{c.Tunnels[1].Fields["tls.ca"], at(64, 5)},
	}
	for i, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("position %d = %v, want %v", i, ck.got, ck.want)
		}
	}
	if got := c.Tunnels[1].Where("limits.idle_timeout"); got != path+":55:1" {
		t.Errorf("Where of a defaulted field = %q, want the tunnel block", got)
	}
}

// TestSchemaFieldsAreDecoded guards against a name listed in a schema that no
// decode function reads (it would be accepted and silently dropped).
func TestSchemaFieldsAreDecoded(t *testing.T) {
	blocks := blockSchemas
	var src strings.Builder
	var want []string
	src.WriteString("tunnel \"t\" {\n")
	for _, a := range tunnelSchema.Attributes {
		src.WriteString(a.Name + " = \"x\"\n")
		want = append(want, a.Name)
	}
	for _, b := range tunnelSchema.Blocks {
		src.WriteString(b.Type + " {\n")
		for _, a := range blocks[b.Type].Attributes {
			src.WriteString(a.Name + " = \"x\"\n")
			want = append(want, b.Type+"."+a.Name)
		}
		src.WriteString("}\n")
	}
	src.WriteString("}\n")
	f, diags := hclsyntax.ParseConfig([]byte(src.String()), "s.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d := &decoder{file: "s.hcl", ctx: evalContext((&fileReader{dir: "."}).read, nil), failed: map[fieldKey]bool{}}
	c := d.config(f.Body)
	for _, field := range want {
		if _, ok := c.Tunnels[0].Fields[field]; !ok {
			t.Errorf("schema field %s is not decoded", field)
		}
	}
	if len(tunnelSchema.Blocks) != len(blocks) {
		t.Errorf("tunnel has %d blocks, test knows %d", len(tunnelSchema.Blocks), len(blocks))
	}
}

func TestDefaults(t *testing.T) {
	src := `tunnel "a" {
  mode   = "server"
  listen = ":0"
  target = "localhost:1"
  tls { 
    cert = "c.pem"
    ca   = "ca.pem"
  }
}`
	c, err := Parse([]byte(src), "d.hcl")
	if err != nil {
		t.Fatal(err)
	}
	tu := c.Tunnels[0]
	if c.LogLevel != "info" || c.LogFormat != "text" {
		t.Errorf("log defaults = %q %q", c.LogLevel, c.LogFormat)
	}
	if tu.Limits != DefaultLimits() || tu.Cluster != "passtunnel" || tu.ProxyProtocol.Accept != "none" || tu.ProxyProtocol.Send != "none" {
		t.Errorf("tunnel defaults = %+v %q %+v", tu.Limits, tu.Cluster, tu.ProxyProtocol)
	}
	if tu.TLS.ClientAuth != "require" || tu.TLS.MinVersion != "1.2" || tu.TLS.MaxVersion != "1.3" || tu.TLS.SessionResumptionDisabled {
		t.Errorf("tls defaults = %+v", tu.TLS)
	}
	if d := DefaultTLS(ModeClient); d.ClientAuth != "" || d.MinVersion != "1.2" || d.MaxVersion != "1.3" || d.SessionResumptionDisabled {
		t.Errorf("DefaultTLS(client) = %+v", d)
	}
}

// TestSessionResumption: tls.session_resumption is on unless set to false,
// for every identity, a passphrase included (its tls block holds the
// settings of the handshake), and takes only a bool.
func TestSessionResumption(t *testing.T) {
	dir := secretDir(t)
	src := `tunnel "default" {
  mode   = "server"
  listen = "127.0.0.1:6380"
  target = "127.0.0.1:6379"
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
}
tunnel "on" {
  mode   = "client"
  listen = "127.0.0.1:6381"
  target = "db:6380"
  tls {
    ca                 = "ca.pem"
    session_resumption = true
  }
}
tunnel "off" {
  mode   = "server"
  listen = "127.0.0.1:6382"
  target = "127.0.0.1:6379"
  tls {
    cert               = "c.pem"
    ca                 = "ca.pem"
    session_resumption = false
  }
}
tunnel "pass-server" {
  mode       = "server"
  listen     = "127.0.0.1:6383"
  target     = "127.0.0.1:6379"
  passphrase = file("p")
  tls { session_resumption = false }
}
tunnel "pass-client" {
  mode       = "client"
  listen     = "127.0.0.1:6384"
  target     = "db:6380"
  passphrase = file("p")
  tls { session_resumption = false }
}`
	c, err := Parse([]byte(src), filepath.Join(dir, "ok.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, off := range []bool{false, false, true, true, true} {
		tu := c.Tunnels[i]
		if tu.TLS.SessionResumptionDisabled != off {
			t.Errorf("tunnel %q: resumption disabled %v, want %v", tu.Name, tu.TLS.SessionResumptionDisabled, off)
		}
		_, given := tu.Fields["tls.session_resumption"]
		if want := tu.Name != "default"; given != want {
			t.Errorf("tunnel %q: position recorded %v, want %v", tu.Name, given, want)
		}
	}
	if tl := c.Tunnels[3].TLS; tl.ClientAuth != "require" || tl.MinVersion != "1.3" || tl.MaxVersion != "1.3" { // a passphrase tunnel: 1.3 only
		t.Errorf("pass-server: the other tls defaults changed: %+v", tl)
	}

	runBrokenConfigs(t, []brokenConfig{{"not a bool", strings.Replace(okServer, "  tls {", "  tls {\n    session_resumption = \"no\"", 1), []string{
		`bad.hcl:6:5: tunnel "redis": tls.session_resumption: must be true or false`,
	}}})
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.hcl")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load error %v does not wrap fs.ErrNotExist", err)
	}
	want := path + ": cannot read config: no such file or directory"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Errorf("error is not a one-element Errors: %#v", err)
	}
}

func TestLoadResolvesFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sub", "cert-path"), "/etc/x.pem\n\n")
	write(t, filepath.Join(dir, "p.hcl"), `tunnel "a" {
  mode   = "client"
  listen = "127.0.0.1:0"
  target = "h:1"
  tls {
    ca = file("sub/cert-path")
  }
}`)
	c, err := Load(filepath.Join(dir, "p.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	// Only one trailing newline is dropped.
	if got := c.Tunnels[0].TLS.CA; got != "/etc/x.pem\n" {
		t.Errorf("ca = %q", got)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
