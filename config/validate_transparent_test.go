package config

import (
	"net/netip"
	"strings"
	"testing"
)

// transparentTunnel is a transparent client tunnel with more lines inside.
func transparentTunnel(lines string) string {
	return `tunnel "t" {
  mode         = "client"
  listen       = "127.0.0.1:15001"
  transparent  = "redirect"
  port_map     = { "2552" = 12552 }
  destinations = ["10.0.0.0/8", "192.168.1.5:2552"]
  tls {
    server_name = "node.cluster"
    insecure_skip_verify = true
  }
` + lines + "\n}\n"
}

func TestTransparentParses(t *testing.T) {
	c, err := Parse([]byte(transparentTunnel(`  mark = "0x10"`)), "ok.hcl")
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Tunnels[0].Transparent
	if tr.Mode != "redirect" || tr.PortMap[2552] != 12552 || len(tr.PortMap) != 1 || tr.Mark != "0x10" {
		t.Errorf("got %+v", tr)
	}
	ds := ParseDestinations(tr.Destinations)
	want := []Destination{{netip.MustParsePrefix("10.0.0.0/8"), 0}, {netip.MustParsePrefix("192.168.1.5/32"), 2552}}
	if len(ds) != 2 || ds[0] != want[0] || ds[1] != want[1] {
		t.Errorf("destinations: got %v, want %v", ds, want)
	}
	if c.Tunnels[0].Target.Network != "" {
		t.Errorf("target: got %v, want none", c.Tunnels[0].Target)
	}
}

func TestParseDestination(t *testing.T) {
	for s, want := range map[string]Destination{
		"10.0.0.0/8":        {netip.MustParsePrefix("10.0.0.0/8"), 0},
		"10.0.0.5":          {netip.MustParsePrefix("10.0.0.5/32"), 0},
		"10.0.0.0/8:2552":   {netip.MustParsePrefix("10.0.0.0/8"), 2552},
		"fd77::/64":         {netip.MustParsePrefix("fd77::/64"), 0},
		"[fd77::/64]:2552":  {netip.MustParsePrefix("fd77::/64"), 2552},
		"[fd77::1]:80":      {netip.MustParsePrefix("fd77::1/128"), 80},
		"0.0.0.0/0":         {netip.MustParsePrefix("0.0.0.0/0"), 0},
		"fd77::1":           {netip.MustParsePrefix("fd77::1/128"), 0},
		"192.168.0.0/16:65": {netip.MustParsePrefix("192.168.0.0/16"), 65},
	} {
		got, err := ParseDestination(s)
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "db.internal", "10.0.0.1/8", "10.0.0.0/8:0", "10.0.0.0/8:x", "[fd77::/64", "[10.0.0.0/8]:1",
		"fd77::/64:80", "10.0.0.0/33", "10.0.0.0/8:"} {
		if _, err := ParseDestination(s); err == nil {
			t.Errorf("%q: accepted", s)
		}
	}
}

func TestTransparentRefuses(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{transparentTunnel(`  target = "10.0.0.1:1"`), `bad.hcl:11:3: tunnel "t": target: not with transparent = "redirect"`},
		{transparentTunnel(`  target_check = "10s"`), `bad.hcl:11:3: tunnel "t": target_check: not with transparent = "redirect": it has no fixed target`},
		{strings.Replace(transparentTunnel(""), `"redirect"`, `"nat"`, 1), `transparent: invalid value "nat"; want none, redirect, tproxy`},
		{strings.Replace(transparentTunnel(""), `{ "2552" = 12552 }`, `{}`, 1), `port_map: required with transparent`},
		{strings.Replace(transparentTunnel(""), `{ "2552" = 12552 }`, `{ "2552" = 70000 }`, 1), `port_map: "2552" = 70000: want a port`},
		{strings.Replace(transparentTunnel(""), `{ "2552" = 12552 }`, `{ "x" = 1 }`, 1), `port_map: key "x": want a port`},
		{strings.Replace(transparentTunnel(""), `{ "2552" = 12552 }`, `["a"]`, 1), `port_map: must be an object of ports`},
		{strings.Replace(transparentTunnel(""), `{ "2552" = 12552 }`, `{ "2552" = 2552 }`, 1),
			`port_map: 2552 -> 2552: port 2552 is redirected too (port_map of tunnel "t")`},
		{strings.Replace(transparentTunnel(""), `["10.0.0.0/8", "192.168.1.5:2552"]`, `[]`, 1), `destinations: required with transparent`},
		{strings.Replace(transparentTunnel(""), `"10.0.0.0/8"`, `"10.0.0.1/8"`, 1), `has host bits set; write 10.0.0.0/8`},
		{strings.Replace(transparentTunnel(""), `"10.0.0.0/8"`, `"fd77::/64"`, 1), `destinations: fd77::/64 is not of the family of listen "127.0.0.1:15001"`},
		{strings.Replace(transparentTunnel(""), `127.0.0.1:15001`, `unix:/run/t.sock`, 1), `listen: "unix:/run/t.sock": a transparent tunnel listens on an IP address`},
		{strings.Replace(transparentTunnel("  unsafe_listen = true"), `127.0.0.1:15001`, `10.0.0.1:15001`, 1), `with redirect, listen on 127.0.0.1 or [::1]`},
		{strings.Replace(transparentTunnel(""), `"client"`, `"server"`, 1), `transparent: only in client mode`},
		{transparentTunnel(`  mark = "0x7075"`), `mark: 0x7075 is the mark the rules route local delivery by`},
		{transparentTunnel(`  mark = "pt"`), `mark: invalid mark "pt"`},
		{transparentTunnel(`  transparent_source = true`), `transparent_source: only in server mode`},
		{strings.Replace(transparentTunnel(""), "    insecure_skip_verify = true\n", "    ca = \"ca.pem\"\n", 1),
			""},
		{strings.Replace(strings.Replace(transparentTunnel(""), "    insecure_skip_verify = true\n", "    ca = \"ca.pem\"\n", 1),
			`    server_name = "node.cluster"`+"\n", "", 1), `tls.server_name: required for a transparent tunnel verifying certificates`},
	} {
		_, err := Parse([]byte(c.src), "bad.hcl")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("refused:\n%s\n%v", c.src, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("got %v\nwant %s", err, c.want)
		}
	}
}

// port_map, destinations and mark mean nothing on a tunnel that is not
// transparent: said, not ignored.
func TestTransparentFieldsNeedTransparent(t *testing.T) {
	for field, line := range map[string]string{
		"port_map":     `port_map = { "1" = 2 }`,
		"destinations": `destinations = ["10.0.0.0/8"]`,
		"mark":         `mark = "0x1"`,
	} {
		_, err := Parse([]byte(listenTunnel("client", "127.0.0.1:1", "  "+line+"\n")), "bad.hcl")
		want := `bad.hcl:6:3: tunnel "a": ` + field + `: only for a transparent tunnel`
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want %s...", err, want)
		}
	}
	src := `tunnel "s" {
  mode = "server"
  listen = "0.0.0.0:12552"
  target = "10.0.0.2:2552"
  transparent_source = true
  mark = "0x1"
  tls {
    self_signed = true
    client_auth = "none"
  }
}
`
	if _, err := Parse([]byte(src), "ok.hcl"); err != nil {
		t.Errorf("transparent_source with mark refused: %v", err)
	}
}
