//go:build linux

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the user the hardening test runs passtunnel as: as another
// user than the test's root, the owner of /proc/PID/environ shows whether
// the process is dumpable.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// TestSecretEnvScrubbed: a passphrase and a shared secret given by
// environment variable are gone from /proc/PID/environ of a running
// passtunnel (the other variables stay), a SIGHUP reload still reads them,
// and the process is not dumpable and dumps no core.
func TestSecretEnvScrubbed(t *testing.T) {
	passphraseTest(t)
	if os.Geteuid() != 0 {
		t.Skip("runs passtunnel as uid 65534 and reads the environment of a process that is not dumpable: needs root (the CI runs tests as root)")
	}
	pass, shared := newPassphrase(t), recordSecret(t, "ptit-shared-"+newPassphrase(t), true)
	env := []string{"PT_IT_PASS=" + pass, "PT_IT_SHARED=" + shared, "PT_IT_OTHER=still-here"}
	bin, dir := binaryForNobody(t)
	be := startEcho(t)
	cfg := configText(ptun{name: "srv", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: "unused",
		extra: `  shared_secret = env("PT_IT_SHARED")`})
	cfg = strings.Replace(cfg, `passphrase = file("unused")`, `passphrase = env("PT_IT_PASS")`, 1)
	path := filepath.Join(dir, "passtunnel.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, []string{"run", "-config", path}, procOpts{env: env, user: nobody})
	p.listenAddr(t, "srv")
	expectHardened(t, p, pass, shared)

	n := len(p.logs(isReloadResult))
	p.signal(t, syscall.SIGHUP)
	res := p.waitLogs(t, reloadTimeout, n+1, "the SIGHUP reload", isReloadResult)[n]
	expectCounts(t, res, 0, 0, 0, 1)

	t.Run("flag", func(t *testing.T) {
		f := startProc(t, bin, []string{"server", "--listen", "127.0.0.1:0", "--target", be.addr,
			"--passphrase-env", "PT_IT_PASS", "--log-format", "json"}, procOpts{env: env, user: nobody})
		f.listenAddr(t, "")
		expectHardened(t, f, pass)
	})
}

// binaryForNobody copies the binary where uid 65534 may run it (binPath's
// directory is root's alone), into a directory for the test's files.
func binaryForNobody(t *testing.T) (bin, dir string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "pt-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	mustChmod(t, dir, 0o755)
	bin = filepath.Join(dir, "passtunnel")
	if err := os.WriteFile(bin, mustRead(t, binPath), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

// expectHardened checks that p is not dumpable (its /proc files belong to
// root, not to the user it runs as), may dump no core, and that none of
// secrets is left in its /proc/PID/environ.
func expectHardened(t *testing.T, p *proc, secrets ...string) {
	t.Helper()
	procDir := fmt.Sprintf("/proc/%d", p.cmd.Process.Pid)
	fi, err := os.Stat(procDir + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 0 {
		t.Errorf("%s/environ belongs to uid %d: the process is dumpable", procDir, uid)
	}
	if !bytes.Contains(mustRead(t, procDir+"/limits"), []byte("Max core file size        0                    0 ")) {
		t.Errorf("core dumps not off:\n%s", mustRead(t, procDir+"/limits"))
	}
	environ, err := os.ReadFile(procDir + "/environ")
	if errors.Is(err, fs.ErrPermission) {
		t.Skip("root may not read the environment of a process that is not dumpable here (no CAP_SYS_PTRACE): the scrub is not checked")
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range secrets {
		if bytes.Contains(environ, []byte(s)) {
			t.Errorf("secret #%d is still in %s/environ", i+1, procDir)
		}
	}
	for _, want := range []string{"\x00PT_IT_OTHER=still-here\x00", "\x00PT_IT_PASS=\x00"} {
		if !bytes.Contains(environ, []byte(want)) {
			t.Errorf("%s/environ lacks %q: the scrub must leave the other variables, and the name", procDir, want)
		}
	}
}
