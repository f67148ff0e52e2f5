package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// TestSandboxPaths: a config's files give their directories, nested ones
// fold into their parent, and a reload is admitted only inside them.
func TestSandboxPaths(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc", "etc/tls", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cert, elsewhere := filepath.Join(root, "etc/tls/a.crt"), filepath.Join(root, "other/b.crt")
	for _, f := range []string{cert, elsewhere} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &config.Config{File: filepath.Join(root, "etc/p.hcl"),
		Tunnels: []config.Tunnel{{Name: "a", TLS: &config.TLS{Cert: cert}}}}
	p := pathsOf(cfg, filepath.Join(root, "state"))
	if want := []string{"/proc/self", filepath.Join(root, "etc")}; !slices.Equal(p.read, want) {
		t.Errorf("read = %v, want %v", p.read, want)
	}
	s := &sandbox{paths: p}
	if err := s.admit(cfg); err != nil {
		t.Errorf("the config it started with: %v", err)
	}
	moved := *cfg
	moved.Tunnels = []config.Tunnel{{Name: "a", TLS: &config.TLS{Cert: elsewhere}}}
	if err := s.admit(&moved); !errors.Is(err, errSandbox) {
		t.Errorf("a certificate in another directory: %v, want the sandbox error", err)
	}
	moved.Tunnels[0].TLS.Cert = filepath.Join(root, "other/missing.crt")
	if err := s.admit(&moved); err != nil {
		t.Errorf("a missing certificate is the load's to name: %v", err)
	}
	var none *sandbox
	if err := none.admit(&moved); err != nil {
		t.Errorf("no sandbox: %v", err)
	}
}
