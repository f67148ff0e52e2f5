package config

import (
	"strings"
	"testing"
)

// listen = "systemd:NAME" names a socket systemd passes; server and client
// tunnels take it, a target or the admin endpoint does not.
func TestSystemdListen(t *testing.T) {
	server := `tunnel "a" {
  mode   = "server"
  listen = "systemd:redis"
  target = "127.0.0.1:6379"
  tls {
    self_signed = true
    client_auth = "none"
  }
}
`
	for mode, src := range map[string]string{"server": server, "client": listenTunnel("client", "systemd:redis", "")} {
		c, err := Parse([]byte(src), "ok.hcl")
		if err != nil {
			t.Fatalf("%s tunnel on systemd:redis refused: %v", mode, err)
		}
		if got := c.Tunnels[0].Listen; got != (Address{Network: NetSystemd, Addr: "redis"}) || got.String() != "systemd:redis" {
			t.Errorf("%s: listen %#v (%s)", mode, got, got)
		}
	}
	bad := []struct{ listen, lines, want string }{
		{"systemd:", "", `bad.hcl:3:3: tunnel "a": listen: invalid address "systemd:": want systemd:NAME`},
		{"systemd:a:b", "", `bad.hcl:3:3: tunnel "a": listen: invalid address "systemd:a:b": want systemd:NAME`},
		{"systemd:redis", "  listen_mode = \"0600\"\n",
			`bad.hcl:6:3: tunnel "a": listen_mode: only for a unix:/path listen address; systemd creates "systemd:redis": set SocketMode=`},
	}
	for _, b := range bad {
		_, err := Parse([]byte(listenTunnel("client", b.listen, b.lines)), "bad.hcl")
		if err == nil || !strings.HasPrefix(err.Error(), b.want) {
			t.Errorf("listen %s: got %v, want %s...", b.listen, err, b.want)
		}
	}
	target := strings.Replace(listenTunnel("client", "127.0.0.1:0", ""), `"db:1"`, `"systemd:redis"`, 1)
	if _, err := Parse([]byte(target), "bad.hcl"); err == nil || !strings.Contains(err.Error(), `target: invalid address "systemd:redis"`) {
		t.Errorf("systemd:NAME as a target: got %v", err)
	}
	if !overlaps(Address{NetSystemd, "a"}, Address{NetSystemd, "a"}) || overlaps(Address{NetSystemd, "a"}, Address{NetSystemd, "b"}) {
		t.Error("two tunnels on one systemd socket must overlap, on two must not")
	}
}
