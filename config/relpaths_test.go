package config

import (
	"path/filepath"
	"reflect"
	"testing"
)

// Relative paths in a config file are relative to the file's directory, as
// file() paths are, whatever the working directory; absolute ones are kept.
// The same paths given as flags stay relative to the working directory
// (TestFlagsServer).
func TestConfigPathsResolveAgainstConfigDir(t *testing.T) {
	dir := filepath.Join(string(filepath.Separator), "etc", "pt")
	src := `
tunnel "files" {
  mode   = "server"
  listen = "unix:run/in.sock"
  target = ["unix:/run/abs.sock", "unix:rel.sock"]
  tls {
    cert = "certs/a.pem"
    key  = "/keys/a.key"
    ca   = "../ca.pem"
    crl  = ["crl/1.pem", "/crl/2.pem"]
  }
}
tunnel "p12" {
  mode   = "server"
  listen = "127.0.0.1:1"
  target = "127.0.0.1:2"
  tls { pkcs12 = "id.p12" }
}
tunnel "acme" {
  mode   = "server"
  listen = "127.0.0.1:3"
  target = "127.0.0.1:4"
  acme {
    domains       = ["example.com"]
    storage       = "acme"
    trusted_roots = "roots.pem"
  }
}
`
	c, errs := parse([]byte(src), filepath.Join(dir, "c.hcl"))
	if c == nil {
		t.Fatal(errs)
	}
	in := func(p string) string { return filepath.Join(dir, p) }
	files, p12, acme := c.Tunnels[0], c.Tunnels[1], c.Tunnels[2]
	got := []string{files.Listen.Addr, files.Targets[0].Addr, files.Targets[1].Addr,
		files.TLS.Cert, files.TLS.Key, files.TLS.CA, files.TLS.CRL[0], files.TLS.CRL[1],
		p12.TLS.PKCS12, acme.ACME.Storage, acme.ACME.TrustedRoots}
	want := []string{in("run/in.sock"), "/run/abs.sock", in("rel.sock"),
		in("certs/a.pem"), "/keys/a.key", filepath.Join(filepath.Dir(dir), "ca.pem"), in("crl/1.pem"), "/crl/2.pem",
		in("id.p12"), in("acme"), in("roots.pem")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths:\n got %q\nwant %q", got, want)
	}
}
