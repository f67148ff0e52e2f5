package integration

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPKIIssueFiles: `pki issue` replaces names planted in its output
// directory (symlinks to files it must not touch) instead of writing
// through them, refuses a directory others may write in, and caps the
// validity at 397 days (90 by default).
func TestPKIIssueFiles(t *testing.T) {
	passphraseTest(t)
	_, pass := passFile(t)

	out, victims := t.TempDir(), t.TempDir()
	for _, name := range []string{"ca.crt", "node.crt", "node.key"} {
		victim := writeFile(t, victims, name, []byte("victim "+name+"\n"))
		if err := os.Symlink(victim, filepath.Join(out, name)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	runPKI(t, nil, "issue", "--name", "node", "--out", out, "--passphrase-file", pass)
	for _, name := range []string{"ca.crt", "node.crt", "node.key"} {
		if got := string(mustRead(t, filepath.Join(victims, name))); got != "victim "+name+"\n" {
			t.Errorf("%s written through the planted symlink: the victim now holds %q", name, got)
		}
		fi, err := os.Lstat(filepath.Join(out, name))
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, want a regular file in place of the symlink", name, fi.Mode())
		}
	}
	block, _ := pem.Decode(mustRead(t, filepath.Join(out, "node.crt")))
	if block == nil {
		t.Fatal("node.crt holds no PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if d := cert.NotAfter.Sub(start); d < 89*24*time.Hour || d > 91*24*time.Hour {
		t.Errorf("default validity %v, want 90 days", d)
	}

	loose := filepath.Join(t.TempDir(), "loose")
	if err := os.Mkdir(loose, 0o700); err != nil {
		t.Fatal(err)
	}
	mustChmod(t, loose, 0o777)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", loose}, "pki issue: --out: directory " + loose + " is writable by group and others (mode 0777)"},
		{[]string{"--out", t.TempDir(), "--validity", "9600h"}, "pki issue: --validity 9600h0m0s is above the cap of 397 days (9528h)"},
	} {
		args := append([]string{"pki", "issue", "--name", "node", "--passphrase-file", pass}, tc.args...)
		p := startProc(t, binPath, args, procOpts{})
		if code := p.mustExit(t, pkiTimeout); code != 1 || !strings.Contains(p.stderr.String(), tc.want) {
			t.Errorf("%s: exit %d, want 1 with %q in:\n%s", strings.Join(args, " "), code, tc.want, p.stderr.String())
		}
	}
	if entries, _ := os.ReadDir(loose); len(entries) != 0 {
		t.Errorf("pki issue wrote %d files into the refused directory", len(entries))
	}
}
