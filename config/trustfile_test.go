//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is the uid a test gives a file that must belong to someone else.
const nobody = 65534

// mkdirMode makes dir with exactly mode, whatever the umask.
func mkdirMode(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chmod(t, dir, mode)
	return dir
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// fileMode writes a file with exactly mode.
func fileMode(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	write(t, path, "trusted\n")
	chmod(t, path, mode)
	return path
}

func symlink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// needRoot skips a test that must give a file to another user.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another owner (uid 65534) needs root; the CI runs tests as root")
	}
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Lchown(path, uid, -1); err != nil {
		t.Fatal(err)
	}
}

// refused checks that err is an UnsafeFileError blaming culprit, with every
// one of subs in its message.
func refused(t *testing.T, err error, culprit string, subs ...string) {
	t.Helper()
	var u *UnsafeFileError
	if !errors.As(err, &u) {
		t.Fatalf("got %v, want an UnsafeFileError blaming %s", err, culprit)
	}
	if u.Culprit != culprit {
		t.Errorf("blames %s, want %s (%v)", u.Culprit, culprit, err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
}

func accepted(t *testing.T, path string) {
	t.Helper()
	if err := CheckTrustFile(path, StakeTrust); err != nil {
		t.Fatalf("CheckTrustFile(%s): %v, want nil", path, err)
	}
}

func TestTrustFileModes(t *testing.T) {
	dir := t.TempDir()
	accepted(t, fileMode(t, filepath.Join(dir, "private"), 0o600))
	accepted(t, fileMode(t, filepath.Join(dir, "readable"), 0o644))
	for _, tc := range []struct {
		mode os.FileMode
		want string
	}{
		{0o666, "is writable by group and others (mode 0666)"},
		{0o620, "is writable by group (mode 0620)"},
		{0o602, "is writable by others (mode 0602)"},
	} {
		path := fileMode(t, filepath.Join(dir, tc.mode.String()), tc.mode)
		refused(t, CheckTrustFile(path, StakeTrust), path, path+" "+tc.want,
			"anyone who can change it decides whom this tunnel trusts; chmod go-w it")
	}
}

func TestTrustFileGroupWritableDir(t *testing.T) {
	dir := mkdirMode(t, filepath.Join(t.TempDir(), "shared"), 0o775)
	path := fileMode(t, filepath.Join(dir, "ca.pem"), 0o644)
	refused(t, CheckTrustFile(path, StakeTrust), dir,
		"directory "+dir+", on the way to "+path+", is writable by group (mode 0775)", "chmod go-w "+dir)
}

// A sticky directory (/tmp) may be writable by all: nobody can replace the
// entries of others there. Without the sticky bit it is refused.
func TestTrustFileStickyDir(t *testing.T) {
	base := t.TempDir()
	sticky := mkdirMode(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky)
	accepted(t, fileMode(t, filepath.Join(sticky, "ca.pem"), 0o644))
	open := mkdirMode(t, filepath.Join(base, "open"), 0o777)
	path := fileMode(t, filepath.Join(open, "ca.pem"), 0o644)
	refused(t, CheckTrustFile(path, StakeTrust), open, "is writable by group and others (mode 0777)")
}

func TestTrustFileOwner(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	file := fileMode(t, filepath.Join(base, "theirs.pem"), 0o644)
	chown(t, file, nobody)
	refused(t, CheckTrustFile(file, StakeTrust), file, "is owned by uid 65534, neither root nor this process's user (uid 0)")

	dir := mkdirMode(t, filepath.Join(base, "theirs"), 0o755)
	chown(t, dir, nobody)
	inside := fileMode(t, filepath.Join(dir, "ca.pem"), 0o644)
	refused(t, CheckTrustFile(inside, StakeTrust), dir, "directory "+dir+", on the way to", "owned by uid 65534")

	// A symlink of another user can be repointed by its owner only where
	// others may write (a sticky directory); elsewhere it is harmless.
	target := fileMode(t, filepath.Join(base, "ca.pem"), 0o644)
	sticky := mkdirMode(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky)
	link := symlink(t, target, filepath.Join(sticky, "ca.pem"))
	chown(t, link, nobody)
	refused(t, CheckTrustFile(link, StakeTrust), link, "symlink "+link, "owned by uid 65534")
	plain := symlink(t, target, filepath.Join(base, "link.pem"))
	chown(t, plain, nobody)
	accepted(t, plain)
}

// Every directory a symlink chain passes through counts: one writable by
// others could swap a link of the chain, even though neither the path as
// given nor the file it leads to sits in it.
func TestTrustFileSymlinkChain(t *testing.T) {
	base := t.TempDir()
	safe := mkdirMode(t, filepath.Join(base, "safe"), 0o755)
	loose := mkdirMode(t, filepath.Join(base, "loose"), 0o777)
	real := mkdirMode(t, filepath.Join(base, "real"), 0o755)
	file := fileMode(t, filepath.Join(real, "ca.pem"), 0o644)
	symlink(t, "../real/ca.pem", filepath.Join(loose, "hop"))
	first := symlink(t, "../loose/hop", filepath.Join(safe, "ca.pem"))
	refused(t, CheckTrustFile(first, StakeTrust), loose, "directory "+loose+", on the way to "+first)

	direct := symlink(t, filepath.Join("..", "real", "ca.pem"), filepath.Join(safe, "direct.pem"))
	accepted(t, direct)
	chmod(t, file, 0o666)
	refused(t, CheckTrustFile(direct, StakeTrust), file, file+", where "+direct+" leads, is writable by group and others")

	// The path as given is checked too: ".." does not skip a directory.
	chmod(t, file, 0o644)
	mkdirMode(t, filepath.Join(loose, "x"), 0o755)
	refused(t, CheckTrustFile(loose+"/x/../../real/ca.pem", StakeTrust), loose)
	refused(t, CheckTrustFile(loose+"/../real/ca.pem", StakeTrust), loose)
}

// A Kubernetes Secret or ConfigMap volume: the mount point (sticky and
// writable by all, or 0755), a timestamped directory 0755, files 0644, and
// root-owned ..data and name links. It must pass as it is mounted.
func TestTrustFileKubernetesSecret(t *testing.T) {
	for _, mode := range []os.FileMode{0o777 | os.ModeSticky, 0o755} {
		mount := mkdirMode(t, filepath.Join(t.TempDir(), "secret"), mode)
		ts := mkdirMode(t, filepath.Join(mount, "..2026_01_02_03_04_05.000000001"), 0o755)
		fileMode(t, filepath.Join(ts, "ca.crt"), 0o644)
		symlink(t, filepath.Base(ts), filepath.Join(mount, "..data"))
		path := symlink(t, "..data/ca.crt", filepath.Join(mount, "ca.crt"))
		accepted(t, path)
		chmod(t, ts, 0o775)
		refused(t, CheckTrustFile(path, StakeTrust), ts, "writable by group (mode 0775)")
	}
}

func TestTrustFileMissing(t *testing.T) {
	accepted(t, filepath.Join(t.TempDir(), "no-such-file"))
	accepted(t, filepath.Join(t.TempDir(), "no-such-dir", "file"))
}

// An output directory may not be writable by others even when sticky.
func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	for _, mode := range []os.FileMode{0o700, 0o755} {
		dir := mkdirMode(t, filepath.Join(base, "ok-"+mode.String()), mode)
		if err := CheckPrivateDir(dir, StakeOutput); err != nil {
			t.Errorf("%s (%v): %v, want nil", dir, mode, err)
		}
	}
	sticky := mkdirMode(t, filepath.Join(base, "sticky"), 0o777|os.ModeSticky)
	refused(t, CheckPrivateDir(sticky, StakeOutput), sticky,
		"directory "+sticky+" is writable by group and others (mode 1777): anyone who can write in it decides the key and certificates written there")
}

// The config file, every file() it reads and every secret file a flag
// names are trust files.
func TestLoadRefusesUnsafeFiles(t *testing.T) {
	open := mkdirMode(t, filepath.Join(t.TempDir(), "open"), 0o777)
	path := filepath.Join(open, "c.hcl")
	write(t, path, tunnelWith(""))
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), "directory "+open+", on the way to "+path+", is writable by group and others (mode 0777)") {
		t.Errorf("config in a directory writable by all: got %v", err)
	}

	dir := t.TempDir()
	secret := fileMode(t, filepath.Join(dir, "p"), 0o666)
	_, err = Parse([]byte(tunnelWith(`  passphrase = file("p")`)), filepath.Join(dir, "c.hcl"))
	want := `c.hcl:6:3: tunnel "a": passphrase: file("p"): ` + secret + " is writable by group and others (mode 0666)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("file() of a file writable by all: got %v, want %s", err, want)
	}
	_, err = fromFlags(t, ModeClient, "--listen", "127.0.0.1:0", "--target", "db:1", "--passphrase-file", secret)
	if err == nil || !strings.HasPrefix(err.Error(), "flag --passphrase-file: file(\""+secret+"\"): "+secret+" is writable") {
		t.Errorf("--passphrase-file writable by all: got %v", err)
	}
	if _, err := ReadSecret(secret, ""); err == nil || !strings.Contains(err.Error(), "(mode 0666)") {
		t.Errorf("ReadSecret of a file writable by all: got %v", err)
	}
}
