package daemon

import (
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// TestPlanShowsSessionResumptionOff: check's plan names
// session_resumption when it is turned off, on the protocol line with the
// other handshake settings, for a passphrase tunnel too; the default adds
// nothing.
func TestPlanShowsSessionResumptionOff(t *testing.T) {
	src := `tunnel "on" {
  mode   = "server"
  listen = "127.0.0.1:6380"
  target = "127.0.0.1:6379"
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
}
tunnel "off" {
  mode   = "client"
  listen = "127.0.0.1:6381"
  target = "db:6380"
  tls {
    ca                 = "ca.pem"
    session_resumption = false
  }
}
tunnel "pass" {
  mode       = "server"
  listen     = "127.0.0.1:6382"
  target     = "127.0.0.1:6379"
  passphrase = "alpha bravo charlie delta echo"
  tls { session_resumption = false }
}`
	c, err := config.Parse([]byte(src), "p.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for i, off := range []bool{false, true, true} {
		p := Plan(&c.Tunnels[i])
		protocol := planLine(p, "protocol")
		if got := strings.Contains(protocol, ", session_resumption false"); got != off {
			t.Errorf("tunnel %q: protocol line %q shows session_resumption false: %v, want %v\n%s",
				c.Tunnels[i].Name, protocol, got, off, p)
		}
	}
}

// TestPlanShowsPerSourceHandshakes: a server tunnel's limits line names
// per_source_handshakes, the default and 0 alike; a client tunnel, which
// counts no handshake, does not. Every tunnel shows max_handshakes.
func TestPlanShowsPerSourceHandshakes(t *testing.T) {
	src := `tunnel "default" {
  mode   = "server"
  listen = "127.0.0.1:6380"
  target = "127.0.0.1:6379"
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
}
tunnel "off" {
  mode   = "server"
  listen = "127.0.0.1:6381"
  target = "127.0.0.1:6379"
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
  limits {
    per_source_handshakes = 0
    max_handshakes        = 16
  }
}
tunnel "client" {
  mode   = "client"
  listen = "127.0.0.1:6382"
  target = "db:6380"
  tls { ca = "ca.pem" }
}`
	c, err := config.Parse([]byte(src), "p.hcl")
	if err != nil {
		t.Fatal(err)
	}
	atOnce := []string{", 32 handshakes per CPU at once (at least 64),", ", 16 handshakes at once,", ", 32 handshakes per CPU at once (at least 64),"}
	for i, want := range []string{", 64 handshakes per source,", ", unlimited handshakes per source,", ""} {
		p := Plan(&c.Tunnels[i])
		limits := planLine(p, "limits")
		if got := strings.Contains(limits, "handshakes per source"); want == "" && got || want != "" && !strings.Contains(limits, want) {
			t.Errorf("tunnel %q: limits line %q, want %q in it\n%s", c.Tunnels[i].Name, limits, want, p)
		}
		if !strings.Contains(limits, atOnce[i]) {
			t.Errorf("tunnel %q: limits line %q, want %q in it (max_handshakes)", c.Tunnels[i].Name, limits, atOnce[i])
		}
	}
}

// planLine is the last line of a plan that starts with label.
func planLine(plan, label string) string {
	var line string
	for _, l := range strings.Split(plan, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), label) {
			line = l
		}
	}
	return line
}

// TestPlanShowsListenExposure: the plan shows a unix socket's mode and a
// client tunnel allowed beyond loopback.
func TestPlanShowsListenExposure(t *testing.T) {
	src := `tunnel "sock" {
  mode        = "client"
  listen      = "unix:/run/a.sock"
  listen_mode = "0600"
  target      = "db:1"
  tls { insecure_skip_verify = true }
}
tunnel "wide" {
  mode          = "client"
  listen        = "0.0.0.0:6379"
  unsafe_listen = true
  target        = "db:1"
  tls { insecure_skip_verify = true }
}`
	c, err := config.Parse([]byte(src), "p.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"client    unix:/run/a.sock (mode 0600) cleartext", "client    0.0.0.0:6379 (unsafe_listen) cleartext"} {
		if p := Plan(&c.Tunnels[i]); !strings.Contains(p, want) {
			t.Errorf("plan lacks %q:\n%s", want, p)
		}
	}
}

// TestPlanShowsTargets: several targets are listed with their balance.
func TestPlanShowsTargets(t *testing.T) {
	src := `tunnel "one" {
  mode   = "server"
  listen = "127.0.0.1:6380"
  target = "127.0.0.1:6379"
  tls {
    self_signed = true
    client_auth = "none"
  }
  proxy_protocol { send = "v1" }
}
tunnel "two" {
  mode    = "server"
  listen  = "127.0.0.1:6381"
  target  = ["10.0.0.1:6379", "unix:/run/redis.sock"]
  balance = "round_robin"
  tls {
    self_signed = true
    client_auth = "none"
  }
  proxy_protocol { send = "v1" }
}`
	c, err := config.Parse([]byte(src), "p.hcl")
	if err != nil {
		t.Fatal(err)
	}
	one, two := Plan(&c.Tunnels[0]), Plan(&c.Tunnels[1])
	if !strings.Contains(one, "TLS -> 127.0.0.1:6379 cleartext\n") || planLine(one, "balance") != "" {
		t.Errorf("one target:\n%s", one)
	}
	if !strings.Contains(two, "TLS -> 10.0.0.1:6379, unix:/run/redis.sock cleartext\n") ||
		!strings.Contains(planLine(two, "balance"), "round_robin: each connection starts at the next target") ||
		!strings.Contains(planLine(two, "proxy"), "send v1 header to 10.0.0.1:6379, unix:/run/redis.sock") {
		t.Errorf("two targets:\n%s", two)
	}
}

// TestPlanShowsOriginalDestination: a transparent tunnel has no target
// list; check says where it connects instead of showing nothing.
func TestPlanShowsOriginalDestination(t *testing.T) {
	src := `tunnel "out" {
  mode         = "client"
  listen       = "127.0.0.1:15001"
  transparent  = "redirect"
  port_map     = { "2552" = 12552 }
  destinations = ["10.0.0.0/8"]
  passphrase   = "alpha bravo charlie delta echo"
}`
	c, err := config.Parse([]byte(src), "p.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if p := Plan(&c.Tunnels[0]); !strings.Contains(p, "cleartext -> original destination TLS") {
		t.Errorf("plan of a transparent tunnel:\n%s", p)
	}
}
