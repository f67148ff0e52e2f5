package daemon

import (
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// TestPlanShowsSNI: check's plan names each routed tunnel's server names
// and whether it takes the unknown ones; a tunnel of its own listener
// gets no sni line.
func TestPlanShowsSNI(t *testing.T) {
	src := `tunnel "a" {
  mode         = "server"
  listen       = "127.0.0.1:6380"
  target       = "127.0.0.1:6379"
  server_names = ["a.example", "*.b.example"]
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
}
tunnel "d" {
  mode        = "server"
  listen      = "127.0.0.1:6380"
  target      = "127.0.0.1:6378"
  sni_default = true
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
}
tunnel "alone" {
  mode   = "server"
  listen = "127.0.0.1:6381"
  target = "127.0.0.1:6379"
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
}`
	c, err := config.Parse([]byte(src), "p.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{
		"  sni       a.example, *.b.example",
		"  sni       no names; and every other name or none (sni_default)",
		"",
	} {
		p := Plan(&c.Tunnels[i])
		if got := planLine(p, "sni"); got != want {
			t.Errorf("tunnel %q: sni line %q, want %q\n%s", c.Tunnels[i].Name, got, want, p)
		}
	}
}
