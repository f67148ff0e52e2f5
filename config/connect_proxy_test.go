package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConnectProxy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ConnectProxy
		err  string
	}{
		{"http://proxy.corp:3128", ConnectProxy{Addr: "proxy.corp:3128"}, ""},
		{"http://u%40x:p%3Ass@[::1]:8080/", ConnectProxy{Addr: "[::1]:8080", User: "u@x", Password: "p:ss"}, ""},
		{"http://user@10.0.0.1:3128", ConnectProxy{Addr: "10.0.0.1:3128", User: "user"}, ""},
		{"https://user:pw0rd-xyz@proxy:3128", ConnectProxy{}, `scheme "https"`},
		{"proxy:3128", ConnectProxy{}, `scheme "proxy"`},
		{"http://user:pw0rd-xyz@proxy", ConnectProxy{}, `host "proxy": want host:port`},
		{"http://user:pw0rd-xyz@proxy:0", ConnectProxy{}, "port from 1 to 65535"},
		{"http://user:pw0rd-xyz@proxy:3128/path", ConnectProxy{}, "no path, query or fragment"},
		{"http://user:pw0rd-xyz@pro xy:3128", ConnectProxy{}, "not a valid URL"},
	} {
		got, err := ParseConnectProxy(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %+v, %v; want %+v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
		case err != nil && strings.Contains(err.Error(), "pw0rd"):
			t.Errorf("%s: error shows the password: %v", tc.in, err)
		}
	}
}

func TestConnectProxyConfig(t *testing.T) {
	dir := secretDir(t)
	url := "http://alice:" + secretValue + "@proxy.corp:3128"
	write(t, filepath.Join(dir, "proxy"), url+"\n")
	c, errs := parse([]byte(tunnelWith(`  connect_proxy = file("proxy")
  tls { ca = "ca.pem" }`)), filepath.Join(dir, "c.hcl"))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if cp := c.Tunnels[0].ConnectProxy; cp.Reveal() != url || cp.Source != `file("proxy")` {
		t.Errorf("connect_proxy from %s", cp.Source)
	}

	bad := "http://alice:" + secretValue + "@proxy.corp"
	t.Setenv("PT_TEST_PROXY", bad)
	for _, tc := range []struct{ src, want string }{
		{tunnelWith(`  connect_proxy = env("PT_TEST_PROXY")`), `c.hcl:6:3: tunnel "a": connect_proxy: env("PT_TEST_PROXY"): host "proxy.corp": want host:port`},
		{strings.Replace(tunnelWith(`  connect_proxy = "http://p:1"`), `"client"`, `"server"`, 1), `connect_proxy: client tunnels only`},
		{strings.Replace(tunnelWith(`  connect_proxy = "http://p:1"`), `"db:1"`, `"unix:/run/db.sock"`, 1), `target: unix:/run/db.sock: a target reached through connect_proxy must be host:port`},
		{tunnelWith(`  connect_proxy = ""`), `connect_proxy: must not be empty`},
	} {
		_, errs := parse([]byte(tc.src), filepath.Join(dir, "c.hcl"))
		msg := errs.Error()
		if !strings.Contains(msg, tc.want) || strings.Contains(msg, secretValue) {
			t.Errorf("errors %q, want %q and no secret", msg, tc.want)
		}
	}
}

func TestConnectProxyFlag(t *testing.T) {
	t.Setenv("PT_TEST_PROXY", "http://alice:"+secretValue+"@proxy.corp:3128")
	c, err := fromFlags(t, ModeClient, "--listen", "127.0.0.1:0", "--target", "db:1", "--ca", "ca.pem",
		"--connect-proxy-env", "PT_TEST_PROXY")
	if err != nil {
		t.Fatal(err)
	}
	if cp := c.Tunnels[0].ConnectProxy; cp.Source != `env("PT_TEST_PROXY")` || !strings.Contains(cp.Reveal(), "proxy.corp") {
		t.Errorf("connect_proxy from %s", cp.Source)
	}
	_, err = fromFlags(t, ModeServer, "--listen", ":0", "--target", "h:1", "--cert", "c", "--key", "k",
		"--connect-proxy-env", "PT_TEST_PROXY")
	if err == nil || !strings.Contains(err.Error(), "flag --connect-proxy-env: client tunnels only") || strings.Contains(err.Error(), secretValue) {
		t.Errorf("server with --connect-proxy-env: %v", err)
	}
}
