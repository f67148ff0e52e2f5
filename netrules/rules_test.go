package netrules

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden: the rules each testdata config yields, for each backend, and
// the removal, are what the golden files hold (go test -update rewrites
// them after a deliberate change; review the diff).
func TestGolden(t *testing.T) {
	configs, err := filepath.Glob(filepath.Join("testdata", "*.hcl"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no testdata configs: %v", err)
	}
	for _, path := range configs {
		c, err := config.Loader{}.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, backend := range []string{NFTables, IPTables} {
			steps, err := Build(c).Steps(backend)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(path, ".hcl")+"."+backend+".golden", Script(steps))
		}
	}
	for _, backend := range []string{NFTables, IPTables} {
		steps, err := RemoveSteps(backend)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("testdata", "remove."+backend+".golden"), Script(steps))
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./netrules -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./netrules -update rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestEmpty(t *testing.T) {
	c, err := config.Loader{}.Load(filepath.Join("testdata", "none.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !Build(c).Empty() {
		t.Error("a config without transparent tunnels has rules")
	}
	if _, err := Build(c).Steps("pf"); err == nil || !strings.Contains(err.Error(), `unknown backend "pf"`) {
		t.Errorf("backend pf: got %v", err)
	}
}
