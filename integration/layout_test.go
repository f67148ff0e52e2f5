package integration

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/passtunnel/passtunnel"

// listedPackage is what `go list -json` says of one package.
type listedPackage struct {
	ImportPath string
	Imports    []string // of the non-test files
}

// TestDependenciesPointOneWay holds the layout's rules (see
// docs/architecture.md): main -> daemon -> config, pki, proxy; config
// imports no project package, proxy none but its own internal engine, and
// only that engine touches unsafe or syscall. Test-support packages stay
// out of what ships.
func TestDependenciesPointOneWay(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	allowed := map[string][]string{ // project imports each package may have
		"":                        {"config", "daemon", "migrate", "netrules", "pki"},
		"migrate":                 {"config"},
		"daemon":                  {"config", "filewatch", "pki", "proxy"},
		"config":                  nil,
		"filewatch":               nil,
		"netrules":                {"config"},
		"pki":                     {"config", "filewatch", "internal/zxcvbn"},
		"proxy":                   {"proxy/internal/"},
		"proxy/internal/":         {"proxy/internal/"},
		"internal/":               {"internal/"},
		"integration":             nil,
		"integration/bench":       {"internal/pkitest", "pki"},
		"integration/clusternode": nil,
		"integration/soak":        {"internal/pkitest", "pki"},
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		rule, ok := ruleFor(allowed, rel)
		if !ok {
			t.Errorf("%s: no layout rule for this package; add one to this test and docs/architecture.md", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				checkSystemImport(t, rel, imp)
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if !slices.ContainsFunc(rule, func(a string) bool { return dep == a || strings.HasSuffix(a, "/") && strings.HasPrefix(dep, a) }) {
				t.Errorf("%s imports %s: not allowed (may import %v)", p.ImportPath, imp, rule)
			}
		}
	}
}

// ruleFor finds the rule of package rel: its own entry, or the longest
// entry ending in "/" that prefixes it.
func ruleFor(allowed map[string][]string, rel string) ([]string, bool) {
	if r, ok := allowed[rel]; ok {
		return r, true
	}
	best := ""
	for k := range allowed {
		if strings.HasSuffix(k, "/") && strings.HasPrefix(rel+"/", k) && len(k) > len(best) {
			best = k
		}
	}
	r, ok := allowed[best]
	return r, ok && best != ""
}

// checkSystemImport keeps unsafe and syscall inside the pump engine, as far
// as the data path is concerned.
func checkSystemImport(t *testing.T, rel, imp string) {
	t.Helper()
	raw := imp == "unsafe" || imp == "syscall" || strings.HasPrefix(imp, "golang.org/x/sys/")
	if raw && (rel == "proxy" || strings.HasPrefix(rel, "proxy/") && !strings.HasPrefix(rel, "proxy/internal/")) {
		t.Errorf("%s/%s imports %s: only proxy/internal/... may", module, rel, imp)
	}
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...")
	cmd.Dir = ".."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(out)
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if len(pkgs) < 6 {
		t.Fatalf("go list found %d packages; want the whole module", len(pkgs))
	}
	return pkgs
}
