package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one CLI call that must end by itself.
const cliTimeout = 15 * time.Second

// cliSecret is typed where a passphrase does not belong; no output may hold it.
const cliSecret = "cli-test-passphrase-typed-into-argv"

// TestCLI: the rules every command follows, on the built binary. -h prints
// the usage on stdout and exits 0 (and starts nothing); a bad flag or a
// stray argument is one line on stderr and exit 2; run and check read the
// config named as their argument, never ./passtunnel.hcl instead.
func TestCLI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	work := t.TempDir() // the working directory: holds a valid ./passtunnel.hcl
	writeFile(t, work, "passtunnel.hcl", []byte(configText(f.serverTun("cwd", "127.0.0.1:7001", "127.0.0.1:7002"))))
	bad := writeFile(t, t.TempDir(), "srv.hcl", []byte("tunnel \"x\" {\n  mode = \"sideways\"\n}\n"))
	good := writeFile(t, t.TempDir(), "good.hcl", []byte(configText(f.serverTun("named", "127.0.0.1:7003", "127.0.0.1:7004"))))
	passHint := "unknown flag --passphrase: a passphrase is never a flag value: use --passphrase-file FILE or --passphrase-env VAR"

	cases := []struct {
		args   []string
		code   int
		stream string // "out" or "err": where want is
		want   string
	}{
		{[]string{"check", bad}, 1, "err", bad},
		{[]string{"check", good}, 0, "out", good + ": OK, 1 tunnel(s)"},
		{[]string{"check", "-config", good, good}, 0, "out", good + ": OK"},
		{[]string{"check", "-config", good, bad}, 2, "err", "name two different config files"},
		{[]string{"check", good, bad}, 2, "err", `passtunnel check: unexpected argument "` + bad + `"`},
		{[]string{"run", bad}, 1, "err", bad},
		{[]string{"rules", bad}, 1, "err", bad},
		{[]string{"run", "--listn", "x"}, 2, "err", "passtunnel run: unknown flag --listn"},
		{[]string{"check", "--skip-file"}, 2, "err", "passtunnel check: unknown flag --skip-file (did you mean --skip-files?)"},
		{[]string{"server", "--listn", "127.0.0.1:1"}, 2, "err", "passtunnel server: unknown flag --listn (did you mean --listen?)"},
		{[]string{"client", "--trget", "x"}, 2, "err", "(did you mean --target?)"},
		{[]string{"server", "--passphrase", cliSecret}, 2, "err", passHint},
		{[]string{"client", "--passphrase=" + cliSecret}, 2, "err", passHint},
		{[]string{"pki", "ca", "--passphrase", cliSecret}, 2, "err", "passtunnel pki ca: " + passHint},
		{[]string{"server", "--listen"}, 2, "err", "passtunnel server: flag needs an argument"},
		{[]string{"server", "stray"}, 2, "err", `passtunnel server: unexpected argument "stray"`},
		{[]string{"version", "stray"}, 2, "err", "unexpected argument"},
		{[]string{"demo", "stray"}, 2, "err", "unexpected argument"},
		{[]string{"pki", "bogus"}, 2, "err", `passtunnel pki: unknown command "bogus"`},
		{[]string{"pki", "issue"}, 2, "err", "--name and --out are required"},
		{[]string{"pki", "fingerprint"}, 2, "err", "passtunnel pki fingerprint FILE"},
		{[]string{"import", "bogus"}, 2, "err", `unknown tool "bogus"`},
		{[]string{"import", "stunnel"}, 2, "err", "passtunnel import stunnel FILE"},
		{[]string{"demo", "-h"}, 0, "out", "usage: passtunnel demo"},
		{[]string{"run", "-h"}, 0, "out", "usage: passtunnel run [flags] [FILE]"},
		{[]string{"check", "--help"}, 0, "out", "usage: passtunnel check"},
		{[]string{"server", "-h"}, 0, "out", "-listen"},
		{[]string{"client", "-h"}, 0, "out", "usage: passtunnel client"},
		{[]string{"rules", "-h"}, 0, "out", "usage: passtunnel rules"},
		{[]string{"version", "-h"}, 0, "out", "usage: passtunnel version"},
		{[]string{"pki", "-h"}, 0, "out", "passtunnel pki issue"},
		{[]string{"pki", "ca", "-h"}, 0, "out", "usage: passtunnel pki ca"},
		{[]string{"pki", "issue", "-h"}, 0, "out", "usage: passtunnel pki issue"},
		{[]string{"pki", "fingerprint", "-h"}, 0, "out", "usage: passtunnel pki fingerprint FILE"},
		{[]string{"pki", "passphrase", "-h"}, 0, "out", "usage: passtunnel pki passphrase"},
		{[]string{"import", "-h"}, 0, "out", "passtunnel import stunnel FILE"},
		{[]string{"import", "stunnel", "-h"}, 0, "out", "usage: passtunnel import stunnel FILE"},
		{[]string{"import", "ghostunnel", "-h"}, 0, "out", "passtunnel import ghostunnel"},
		{[]string{"-h"}, 0, "out", "passtunnel run"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			p := startProc(t, binPath, c.args, procOpts{dir: work})
			code := p.mustExit(t, cliTimeout)
			out, errOut := p.stdout.String(), p.stderr.String()
			got := map[string]string{"out": out, "err": errOut}[c.stream]
			if code != c.code || !strings.Contains(got, c.want) {
				t.Errorf("exit %d (want %d); std%s does not hold %q\nstdout:\n%s\nstderr:\n%s",
					code, c.code, c.stream, c.want, out, errOut)
			}
			if strings.Contains(out+errOut, cliSecret) {
				t.Errorf("the value given to --passphrase was printed")
			}
			if strings.Contains(out+errOut, "cwd") {
				t.Errorf("./passtunnel.hcl was read although a file was named")
			}
			if c.code == 2 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("a usage error printed more than one line:\n%s", errOut)
			}
		})
	}
}

// TestConfigRelativePaths: the relative paths of a config file name files
// beside it, not in the working directory of whoever runs passtunnel.
func TestConfigRelativePaths(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"a.pem": f.server.cert, "a.key": f.server.key, "ca.pem": f.caA} {
		writeFile(t, filepath.Join(dir, "certs"), name, mustRead(t, src))
	}
	cfg := fmt.Sprintf("%stunnel \"rel\" {\n  mode   = \"server\"\n  listen = \"127.0.0.1:7001\"\n"+
		"  target = \"127.0.0.1:7002\"\n  tls {\n    cert = \"certs/a.pem\"\n    key  = \"certs/a.key\"\n"+
		"    ca   = \"certs/ca.pem\"\n  }\n}\n", logSettings)
	path := writeFile(t, dir, "rel.hcl", []byte(cfg))
	p := startProc(t, binPath, []string{"check", path}, procOpts{dir: t.TempDir()})
	if code := p.mustExit(t, cliTimeout); code != 0 {
		t.Fatalf("check from another directory: exit %d\n%s", code, p.stderr.String())
	}
	if want := filepath.Join(dir, "certs", "a.pem"); !strings.Contains(p.stdout.String(), want) {
		t.Errorf("the plan does not show the resolved path %s:\n%s", want, p.stdout.String())
	}
}
