package migrate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzStunnelImport imports bytes as a stunnel.conf: a config it cannot
// convert is an error, never a panic. The seeds are the test configs.
func FuzzStunnelImport(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.conf*")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range seeds {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("[svc\naccept = 1\n"))
	f.Add([]byte("accept = 127.0.0.1:99999\nconnect =\n"))
	f.Add([]byte("[a]\nclient = maybe\naccept = :1\nconnect = h:2\nverifyChain = yes\nsni = a:*.x\n"))
	f.Add([]byte("include = include.d\ninclude = .\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		// An include names a file to read; the harness keeps them inside its
		// own directory (an include of /dev/zero would never end).
		if includesOutside(src) {
			t.Skip("include outside the test directory")
		}
		dir := t.TempDir()
		if err := os.CopyFS(filepath.Join(dir, "include.d"), os.DirFS("testdata/include.d")); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "stunnel.conf")
		if err := os.WriteFile(path, src, 0o600); err != nil {
			t.Fatal(err)
		}
		if r, err := ImportStunnel(path); err == nil && len(r.HCL) == 0 {
			t.Fatal("import succeeded with no HCL")
		}
	})
}

// FuzzGhostunnelImport imports a ghostunnel command line (split on
// spaces): unknown or malformed flags are errors, never a panic.
func FuzzGhostunnelImport(f *testing.F) {
	for _, s := range []string{
		"server --listen 0.0.0.0:8443 --target=127.0.0.1:8080 --cert /s.crt --key /s.key --cacert /ca.crt --allow-all",
		"client --listen 127.0.0.1:8080 --target db.internal:8443 --cert /c.crt --key /c.key --cacert /ca.crt --verify-cn db",
		"ghostunnel server --listen :1 --target h:2 --keystore /k.p12 --allow-cn a --allow-uri spiffe://d/*",
		"client --listen 127.0.0.1:1 --target h:2 --override-server-name db.example --unsafe-listen",
		"server --listen",
		"server --nosuchflag --listen=",
		"",
		"--listen :1 server",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, " ")
		if r, err := ImportGhostunnel(args); err == nil && len(r.HCL) == 0 {
			t.Fatal("import succeeded with no HCL")
		}
	})
}

// includesOutside reports a line that may be an include of a path outside
// the including file's directory.
func includesOutside(src []byte) bool {
	for _, line := range bytes.Split(src, []byte("\n")) {
		line = bytes.ToLower(bytes.TrimSpace(line))
		if len(line) > 0 && (line[0] == ';' || line[0] == '#') {
			continue // a comment, as the parser skips it
		}
		if bytes.Contains(line, []byte("include")) &&
			(bytes.ContainsAny(line, `/\`) || bytes.Contains(line, []byte(".."))) {
			return true
		}
	}
	return false
}
