package config

import (
	"strings"
	"testing"
)

// sniTunnel is a server tunnel on listen with body added (server_names,
// sni_default, ...).
func sniTunnel(name, listen, body string) string {
	return `tunnel "` + name + `" {
  mode   = "server"
  listen = "` + listen + `"
  target = "127.0.0.1:6379"
  tls {
    cert = "tls.crt"
    ca   = "ca.crt"
  }
` + body + `}
`
}

// Tunnels that each route by SNI may share a listen address; the names,
// the default and the socket settings are checked across the group.
func TestSNIGroupAccepted(t *testing.T) {
	src := sniTunnel("a", "0.0.0.0:443", `  server_names = ["A.example", "*.b.example"]`+"\n") +
		sniTunnel("b", "0.0.0.0:443", `  server_names = ["c.example"]`+"\n") +
		sniTunnel("d", "0.0.0.0:443", "  sni_default = true\n")
	c, err := Parse([]byte(src), "ok.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Tunnels[0].ServerNames; strings.Join(got, ",") != "A.example,*.b.example" {
		t.Errorf("server_names = %q", got)
	}
	if !c.Tunnels[2].SNIDefault || !c.Tunnels[2].SNIRouted() || c.Tunnels[1].SNIDefault {
		t.Errorf("sni_default not as written: %+v", c.Tunnels)
	}
}

var brokenSNIConfigs = []brokenConfig{
	{"a name twice across the group", sniTunnel("a", "0.0.0.0:443", `  server_names = ["a.example"]`+"\n") +
		sniTunnel("b", "0.0.0.0:443", `  server_names = ["x.example", "A.EXAMPLE"]`+"\n"), []string{
		`bad.hcl:19:3: tunnel "b": server_names: "A.EXAMPLE" is also a name of tunnel "a" at bad.hcl:9:3, which shares listen "0.0.0.0:443": each name picks one tunnel`,
	}},
	{"two defaults", sniTunnel("a", "0.0.0.0:443", "  sni_default = true\n") +
		sniTunnel("b", "0.0.0.0:443", "  sni_default = true\n"), []string{
		`bad.hcl:19:3: tunnel "b": sni_default: tunnel "a" at bad.hcl:9:3, which shares listen "0.0.0.0:443" has sni_default = true too: one tunnel per listen address takes the unknown names`,
	}},
	{"sharing without SNI on one side", sniTunnel("a", "0.0.0.0:443", `  server_names = ["a.example"]`+"\n") +
		sniTunnel("b", "0.0.0.0:443", ""), []string{
		`bad.hcl:13:3: tunnel "b": listen: "0.0.0.0:443" overlaps listen "0.0.0.0:443" of tunnel "a" at bad.hcl:3:3; ` +
			`tunnels share a listen address only when each sets server_names or sni_default and both write the same address`,
	}},
	{"overlapping but not the same address", sniTunnel("a", "0.0.0.0:443", `  server_names = ["a.example"]`+"\n") +
		sniTunnel("b", "127.0.0.1:443", `  server_names = ["b.example"]`+"\n"), []string{
		`bad.hcl:13:3: tunnel "b": listen: "127.0.0.1:443" overlaps listen "0.0.0.0:443" of tunnel "a" at bad.hcl:3:3; ` +
			`tunnels share a listen address only when each sets server_names or sni_default and both write the same address`,
	}},
	{"bad names", sniTunnel("a", "0.0.0.0:443", `  server_names = ["a.example."]`+"\n") +
		sniTunnel("b", "0.0.0.0:444", `  server_names = ["x.*.example"]`+"\n") +
		sniTunnel("c", "0.0.0.0:445", `  server_names = ["10.0.0.1"]`+"\n") +
		sniTunnel("d", "0.0.0.0:446", `  server_names = ["a b"]`+"\n") +
		sniTunnel("e", "0.0.0.0:447", `  server_names = ["x.example", "X.example"]`+"\n"), []string{
		`bad.hcl:9:3: tunnel "a": server_names: "a.example.": write it without the trailing dot`,
		`bad.hcl:19:3: tunnel "b": server_names: "x.*.example": a wildcard is only "*." followed by a name, standing for one whole label`,
		`bad.hcl:29:3: tunnel "c": server_names: "10.0.0.1" is an IP address: clients send no IP address as SNI`,
		`bad.hcl:39:3: tunnel "d": server_names: "a b" is not a DNS name (label "a b")`,
		`bad.hcl:49:3: tunnel "e": server_names: "X.example" is listed twice`,
	}},
	{"client mode", `tunnel "c" {
  mode   = "client"
  listen = "127.0.0.1:1"
  target = "127.0.0.1:2"
  server_names = ["a.example"]
  sni_default  = true
  tls { ca = "ca.crt" }
}`, []string{
		`bad.hcl:5:3: tunnel "c": server_names: only meaningful in server mode (a client tunnel sends tls.server_name)`,
		`bad.hcl:6:3: tunnel "c": sni_default: only meaningful in server mode (a client tunnel sends tls.server_name)`,
	}},
	{"PROXY headers on an SNI tunnel", sniTunnel("a", "0.0.0.0:443", `  server_names = ["a.example"]
  proxy_protocol {
    accept  = "v2"
    trusted = ["10.0.0.0/8"]
  }
`), []string{
		`bad.hcl:11:5: tunnel "a": proxy_protocol.accept: not supported yet on a tunnel routed by SNI (server_names, sni_default): ` +
			`the PROXY header would have to be read before the ClientHello that picks the tunnel`,
	}},
	{"unix sockets of two modes", sniTunnel("a", "unix:/run/a.sock", `  server_names = ["a.example"]`+"\n") +
		sniTunnel("b", "unix:/run/a.sock", `  server_names = ["b.example"]
  listen_mode  = "0600"
`), []string{
		`bad.hcl:20:3: tunnel "b": listen_mode: 0600 differs from listen_mode 0660 of tunnel "a" at bad.hcl:1:1, which shares listen "unix:/run/a.sock": one socket has one mode`,
	}},
}

func TestBrokenSNIConfigs(t *testing.T) { runBrokenConfigs(t, brokenSNIConfigs) }
