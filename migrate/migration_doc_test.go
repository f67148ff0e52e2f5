package migrate

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docRows returns the first cells (inside backticks) of the table rows of
// docs/migration.md under the heading "## "+tool.
func docRows(t *testing.T, tool string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "migration.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	section, table := false, false
	cell := regexp.MustCompile("^\\| `([^`]+)` \\|")
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == "## "+tool
		case !strings.HasPrefix(line, "|"):
			table = false
		case !table && strings.HasPrefix(line, "| "+tool+" "):
			table = true
		}
		if m := cell.FindStringSubmatch(line); section && table && m != nil {
			rows = append(rows, m[1])
		}
	}
	if len(rows) < 20 {
		t.Fatalf("docs/migration.md: %d rows under ## %s; the table moved?", len(rows), tool)
	}
	return rows
}

// withoutHeader drops the header comment, which repeats the arguments.
func withoutHeader(hcl string) string {
	var keep []string
	for _, l := range strings.Split(hcl, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// handled: the option changed the HCL or the notes, or a note names it,
// and not as an unknown option. (A client's verify = 2 writes the same HCL
// as no verify with a CAfile, which the importer verifies anyway; what
// changes is the note saying stunnel did not verify.)
func handled(t *testing.T, base, r Result, option string) {
	t.Helper()
	for _, n := range r.Notes {
		if strings.EqualFold(strings.TrimLeft(n.Option, "-"), strings.TrimLeft(option, "-")) && strings.Contains(n.Text, "unknown") &&
			!strings.Contains(n.Text, "unknown value") && !strings.Contains(n.Text, "unknown mode") {
			t.Errorf("%s: reported as unknown: %s", option, n)
		}
	}
	if withoutHeader(r.HCL) == withoutHeader(base.HCL) && len(r.Notes) == len(base.Notes) && !r.Mentions(option) {
		t.Errorf("%s: neither carried nor reported (silently dropped)\n%s", option, notesText(r))
	}
}

// TestMigrationTableStunnel feeds every stunnel option of
// docs/migration.md to the importer, in the global section and in a
// server and a client service.
func TestMigrationTableStunnel(t *testing.T) {
	bases := []string{
		"[s]\naccept = 6380\nconnect = 127.0.0.1:6379\ncert = /c.pem\nkey = /k.pem\nCAfile = /ca.pem\nverifyChain = yes\n",
		"[s]\nclient = yes\naccept = 127.0.0.1:6379\nconnect = db:6380\nCAfile = /ca.pem\nverifyChain = yes\n",
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf.d", "x.conf"), []byte("[inc]\naccept = 1\nconnect = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, row := range docRows(t, "stunnel") {
		key, _, ok := strings.Cut(row, " = ")
		if !ok {
			t.Errorf("row %q: want `option = value`", row)
			continue
		}
		for _, b := range bases {
			svc := withoutOption(b, key)
			base := importAt(t, dir, svc)
			handled(t, base, importAt(t, dir, row+"\n"+svc), key)
			handled(t, base, importAt(t, dir, svc+row+"\n"), key)
		}
	}
}

// withoutOption drops the lines of option key from a stunnel text, so
// that the row's value is a change.
// The verify options go together: one of them drops them all.
func withoutOption(text, key string) string {
	verifyFamily := []string{"verify", "verifychain", "verifypeer", "requirecert"}
	drop := []string{strings.ToLower(key)}
	if slices.Contains(verifyFamily, drop[0]) {
		drop = verifyFamily
	}
	var keep []string
	for _, l := range strings.SplitAfter(text, "\n") {
		if k, _, ok := strings.Cut(l, "="); !ok || !slices.Contains(drop, strings.ToLower(strings.TrimSpace(k))) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// withoutFlag drops flag and its value from a base command line.
func withoutFlag(args []string, flag string) []string {
	var keep []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i++
			continue
		}
		keep = append(keep, args[i])
	}
	return keep
}

func importAt(t *testing.T, dir, text string) Result {
	t.Helper()
	path := filepath.Join(dir, "stunnel.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := ImportStunnel(path)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return r
}

// TestMigrationTableGhostunnel feeds every ghostunnel flag of
// docs/migration.md to the importer, on a server and a client.
func TestMigrationTableGhostunnel(t *testing.T) {
	bases := [][]string{
		{"server", "--listen", "0.0.0.0:8443", "--target", "127.0.0.1:8080", "--cert", "/s.crt", "--key", "/s.key", "--cacert", "/ca.crt", "--allow-cn", "c"},
		{"client", "--listen", "127.0.0.1:8080", "--target", "db:8443", "--cert", "/c.crt", "--key", "/c.key", "--cacert", "/ca.crt"},
	}
	for _, row := range docRows(t, "ghostunnel") {
		flag := strings.Fields(row)
		for _, b := range bases {
			b = withoutFlag(b, flag[0])
			base := importArgs(t, b...)
			handled(t, base, importArgs(t, append(append([]string{}, b...), flag...)...), flag[0])
		}
	}
}

// TestMigrationTablesComplete: every option the importers report, and
// every flag they know, has its row.
func TestMigrationTablesComplete(t *testing.T) {
	rows := map[string]bool{}
	for _, r := range docRows(t, "stunnel") {
		key, _, _ := strings.Cut(r, " = ")
		rows[strings.ToLower(key)] = true
	}
	for _, r := range docRows(t, "ghostunnel") {
		rows[strings.Fields(r)[0]] = true
	}
	for name := range stunnelReported {
		if !rows[name] {
			t.Errorf("stunnel option %s: no row in docs/migration.md", name)
		}
	}
	for name := range stunnelGlobalOnly {
		if !rows[name] {
			t.Errorf("stunnel option %s: no row in docs/migration.md", name)
		}
	}
	for name := range ghostFlags {
		if !rows["--"+name] {
			t.Errorf("ghostunnel flag --%s: no row in docs/migration.md", name)
		}
	}
}
