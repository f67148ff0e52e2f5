package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the config decoder and validator: any
// input may be refused, none may panic. The seeds are every shipped example
// and test config, and a few that break in known places.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.hcl", "../examples/*.hcl", "../examples/*/*.hcl"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	for _, broken := range []string{
		``,
		`tunnel "a" {`,
		`tunnel "a" { mode = "server" listen = }`,
		`tunnel "a" { mode = "server" listen = "0.0.0.0:99999" target = "x" }`,
		`tunnel "a" { mode = "client" tls { ca = file("missing.pem") } }`,
		`tunnel "a" { mode = "server" limits { max_connections = -1 } }`,
		`tunnel "a" {} tunnel "a" {}`,
		`admin = "${env("NO_SUCH_VAR")}"`,
		"tunnel \"\xff\" { mode = \"\x00\" }",
	} {
		f.Add([]byte(broken))
	}
	// A file of its own directory, so file() resolves nowhere real.
	name := filepath.Join(f.TempDir(), "fuzz.hcl")
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse(src, name)
		if err == nil && c == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
	})
}
