package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's reference tables from the block tables")

// TestReference keeps the README's flag and HCL reference tables equal to
// what the block tables generate. After changing a table entry, run
// `go test ./config -run TestReference -update` to rewrite them.
func TestReference(t *testing.T) {
	const path = "../README.md"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(src)
	for _, table := range []string{flagReference(), hclReference()} {
		header, _, _ := strings.Cut(table, "\n")
		start := strings.Index(readme, "\n"+header+"\n")
		if start < 0 {
			t.Fatalf("README has no table starting %q", header)
		}
		start++
		end := start + tableLen(readme[start:])
		if got := readme[start:end]; got != table {
			if !*update {
				t.Errorf("README's table %q differs from the generated one (rerun with -update to rewrite it):\n%s",
					header, firstDiff(got, table))
			}
			readme = readme[:start] + table + readme[end:]
		}
	}
	if *update && readme != string(src) {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tableLen is the length of the markdown table s starts with: its lines
// that start with '|'.
func tableLen(s string) int {
	n := 0
	for strings.HasPrefix(s[n:], "|") {
		i := strings.IndexByte(s[n:], '\n')
		if i < 0 {
			return len(s)
		}
		n += i + 1
	}
	return n
}

// firstDiff shows the first line where the README and the generated table
// differ.
func firstDiff(readme, generated string) string {
	a, b := strings.Split(readme, "\n"), strings.Split(generated, "\n")
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return "README:    " + a[i] + "\ngenerated: " + b[i]
		}
	}
	return "the tables differ in length"
}

// Every setting is documented: a row of its own, or named by the combined
// row of another entry, in both tables.
func TestReferenceNamesEveryField(t *testing.T) {
	flags, fields := flagReference(), hclReference()
	for _, b := range blocks {
		for _, s := range b.settings(ModeServer) {
			if !strings.Contains(fields, "`"+s.path+"`") && !strings.Contains(fields, "`"+s.path+",") {
				t.Errorf("HCL reference lacks %s", s.path)
			}
			if s.doc.text == "" && !s.doc.above {
				t.Errorf("%s: no meaning in the HCL reference", s.path)
			}
			for _, name := range s.flags() {
				if !strings.Contains(flags, "`--"+name+"`") && !strings.Contains(flags, "`--"+name+" ") {
					t.Errorf("flag reference lacks --%s (%s)", name, s.path)
				}
			}
			if s.flag != "" && !strings.Contains(flags, "`"+s.path+"`") {
				t.Errorf("flag reference: no flag sets %s", s.path)
			}
		}
	}
}
