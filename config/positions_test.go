package config

import (
	"reflect"
	"testing"
)

// Two tunnels written at different places mean the same, and clearing the
// positions of one leaves it, and the blocks it points at, as they were.
func TestWithoutPositions(t *testing.T) {
	const src = `tunnel "a" {
  mode   = "server"
  listen = "127.0.0.1:7000"
  target = "db:1"
  tls {
    cert = "c.pem"
    ca   = "ca.pem"
  }
  acme { domains = ["example.com"] }
  limits { idle_timeout = "1m" }
}
`
	a, errs := parse([]byte(src), "a.hcl")
	b, _ := parse([]byte("# moved down a line\n\n"+src), "b.hcl")
	if a == nil || b == nil {
		t.Fatalf("parse: %v", errs) // other errors (acme with cert) do not matter here
	}
	ta, tb := a.Tunnels[0], b.Tunnels[0]
	if reflect.DeepEqual(ta, tb) {
		t.Fatal("tunnels at different places compare equal with their positions")
	}
	if !reflect.DeepEqual(ta.WithoutPositions(), tb.WithoutPositions()) {
		t.Errorf("same settings differ without positions:\n%#v\n%#v", ta.WithoutPositions(), tb.WithoutPositions())
	}
	if ta.TLS.Pos == (Pos{}) || ta.ACME.Pos == (Pos{}) || len(ta.Fields) == 0 || ta.Pos == (Pos{}) {
		t.Errorf("WithoutPositions changed the tunnel it was called on: %+v", ta)
	}
	w := ta.WithoutPositions()
	if w.TLS == ta.TLS || w.TLS.Pos != (Pos{}) || w.ACME.Pos != (Pos{}) || w.Fields != nil || w.Pos != (Pos{}) {
		t.Errorf("positions left: %+v tls %+v acme %+v", w, w.TLS, w.ACME)
	}
	tb.Limits.IdleTimeout++
	if reflect.DeepEqual(ta.WithoutPositions(), tb.WithoutPositions()) {
		t.Error("a changed setting compares equal")
	}
	tb = b.Tunnels[0]
	tb.TLS = &TLS{}
	*tb.TLS = *b.Tunnels[0].TLS
	tb.TLS.Cert = "other.pem"
	if reflect.DeepEqual(ta.WithoutPositions(), tb.WithoutPositions()) {
		t.Error("a changed tls setting compares equal")
	}
}
