package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// What a file decides, for the messages of CheckTrustFile: "anyone who can
// change it decides ...".
const (
	// StakeTrust is at stake in a CA bundle (tls.ca, acme.trusted_roots).
	StakeTrust = "whom this tunnel trusts"
	// StakeConfig is at stake in the config file.
	StakeConfig = "what this process runs and whom it trusts"
	// StakeSecret is at stake in a file holding a passphrase or a secret.
	StakeSecret = "this secret, and with it whom this process trusts"
	// StakeSetting is at stake in a file() of a setting.
	StakeSetting = "a setting of this config"
	// StakeOutput is at stake in a directory passtunnel writes keys into.
	StakeOutput = "the key and certificates written there"
)

// maxSymlinks bounds a resolution, as the kernel's own limit (40) does.
const maxSymlinks = 40

// UnsafeFileError says why a file, or a directory on its way, could be
// changed by someone other than root and this process's user. Its message
// names the culprit, its mode or owner, what is at stake and the fix.
type UnsafeFileError struct {
	Path    string // the file as given
	Culprit string // the file, directory or symlink at fault
	Msg     string
}

func (e *UnsafeFileError) Error() string { return e.Msg }

// CheckTrustFile refuses a file whose content someone other than root or
// this process's effective user could choose (OpenSSH's StrictModes): the
// file, or a directory the kernel looks in to reach it, is writable by
// group or others, or is owned by another user. A directory with the
// sticky bit (/tmp) may be writable by all, since nobody can replace an
// entry of someone else there; a symlink in such a directory must be owned
// by root or the user, like the files. Every directory of the path as given
// and of each symlink it leads through is checked, since a writable
// directory could swap a symlink; a Kubernetes Secret volume (root-owned
// ..data symlinks, 0644 files, 0755 directories) passes. stake is what the
// file decides, for the message. A path that does not exist passes: the
// read that follows reports it in its own words.
func CheckTrustFile(path, stake string) error {
	return checkPath(path, stake, false)
}

// CheckPrivateDir refuses a directory passtunnel is about to write keys
// into when anyone but root or this process's user could write in it, or
// in a directory on its way. Unlike the directories CheckTrustFile passes,
// it may not be writable by others even with the sticky bit: they could
// still plant names in it.
func CheckPrivateDir(path, stake string) error {
	return checkPath(path, stake, true)
}

func checkPath(path, stake string, privateDir bool) error {
	if !modesMeaningful {
		return nil
	}
	w, err := newPathWalk(path, stake)
	if err == nil {
		err = w.walk()
	}
	if err == nil {
		err = w.final(privateDir)
	}
	var unsafe *UnsafeFileError
	switch {
	case err == nil, errors.As(err, &unsafe):
		return err
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return nil
	}
	return fmt.Errorf("cannot check who may change %s: %w", path, err)
}

// pathWalk resolves a path the way the kernel does, one name at a time,
// checking each directory it looks in and each symlink it follows.
type pathWalk struct {
	path, abs string // as given, and made absolute (cleaned)
	stake     string
	euid      int
	pending   []string    // names still to look up
	cur       string      // the directory looked in now, symlinks resolved
	curInfo   fs.FileInfo // its stat
	hops      int
}

func newPathWalk(path, stake string) (*pathWalk, error) {
	// Not filepath.Abs: it cleans, and "link/.." is not "." when link
	// is a symlink. The walk takes "." and ".." as the kernel does.
	abs := path
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		abs = wd + string(filepath.Separator) + path
	}
	root, err := os.Stat("/")
	if err != nil {
		return nil, err
	}
	w := &pathWalk{path: path, abs: filepath.Clean(abs), stake: stake, euid: os.Geteuid(), pending: names(abs), cur: "/", curInfo: root}
	return w, w.dir("/", root)
}

// names splits a path into the names to look up, in order.
func names(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
}

// walk looks up every pending name, leaving cur at what path leads to.
func (w *pathWalk) walk() error {
	for len(w.pending) > 0 {
		name := w.pending[0]
		w.pending = w.pending[1:]
		switch name {
		case ".":
			continue
		case "..":
			w.cur = filepath.Dir(w.cur) // cur has no symlinks: Dir is the kernel's ".."
			fi, err := os.Stat(w.cur)
			if err != nil {
				return err
			}
			w.curInfo = fi
			continue
		}
		next := filepath.Join(w.cur, name)
		fi, err := os.Lstat(next)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if err := w.follow(next, fi); err != nil {
				return err
			}
			continue
		}
		if len(w.pending) > 0 {
			if !fi.IsDir() {
				return fmt.Errorf("%s: %w", next, syscall.ENOTDIR)
			}
			if err := w.dir(next, fi); err != nil {
				return err
			}
		}
		w.cur, w.curInfo = next, fi
	}
	return nil
}

// follow puts the target of the symlink link in front of the names to
// look up. A symlink's own mode means nothing, but in a directory others
// may write in (sticky, or the walk would have stopped) its owner can
// repoint it.
func (w *pathWalk) follow(link string, fi fs.FileInfo) error {
	if w.hops++; w.hops > maxSymlinks {
		return fmt.Errorf("%s: more than %d symlinks", w.path, maxSymlinks)
	}
	if writableByOthers(w.curInfo) {
		if uid, ok := ownerOf(fi); ok && !w.trusted(uid) {
			return w.unsafe(link, fmt.Sprintf("symlink %s, on the way to %s, is owned by uid %d in %s, a directory others may write in: "+
				"that user can repoint it and so decides %s; replace it with a link owned by root or uid %d",
				link, w.path, uid, w.cur, w.stake, w.euid))
		}
	}
	target, err := os.Readlink(link)
	if err != nil {
		return err
	}
	if filepath.IsAbs(target) {
		w.cur = "/"
		if w.curInfo, err = os.Stat("/"); err != nil {
			return err
		}
	}
	w.pending = append(names(target), w.pending...)
	return nil
}

// dir checks a directory looked in on the way.
func (w *pathWalk) dir(path string, fi fs.FileInfo) error {
	if writableByOthers(fi) && fi.Mode()&fs.ModeSticky == 0 {
		return w.unsafe(path, fmt.Sprintf("directory %s, on the way to %s, is %s (mode %s): "+
			"anyone who can write in it can swap what it holds and so decides %s; chmod go-w %s",
			path, w.path, writers(fi), modeString(fi), w.stake, path))
	}
	return w.owner(path, fi, "directory "+path+", on the way to "+w.path+",")
}

// final checks what the walk reached: the file, or the directory to write in.
func (w *pathWalk) final(privateDir bool) error {
	fi, what := w.curInfo, w.cur
	if w.cur != w.abs {
		what = fmt.Sprintf("%s, where %s leads,", w.cur, w.path)
	}
	who, fix := "anyone who can change it", "chmod go-w it"
	if privateDir {
		what = "directory " + what
		who, fix = "anyone who can write in it", "chmod go-w it, or choose another directory"
	}
	if writableByOthers(fi) {
		return w.unsafe(w.cur, fmt.Sprintf("%s is %s (mode %s): %s decides %s; %s",
			what, writers(fi), modeString(fi), who, w.stake, fix))
	}
	return w.owner(w.cur, fi, what)
}

func (w *pathWalk) owner(path string, fi fs.FileInfo, what string) error {
	uid, ok := ownerOf(fi)
	if !ok || w.trusted(uid) {
		return nil
	}
	return w.unsafe(path, fmt.Sprintf("%s is owned by uid %d, neither root nor this process's user (uid %d): "+
		"that user decides %s; chown it to root or uid %d", what, uid, w.euid, w.stake, w.euid))
}

func (w *pathWalk) trusted(uid int) bool { return uid == 0 || uid == w.euid }

func (w *pathWalk) unsafe(culprit, msg string) error {
	return &UnsafeFileError{Path: w.path, Culprit: culprit, Msg: msg}
}

func writableByOthers(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o022 != 0 }

// writers says who besides the owner may write.
func writers(fi fs.FileInfo) string {
	switch fi.Mode().Perm() & 0o022 {
	case 0o022:
		return "writable by group and others"
	case 0o020:
		return "writable by group"
	}
	return "writable by others"
}

// modeString is the mode as chmod takes it: 0666, 1777.
func modeString(fi fs.FileInfo) string {
	m := uint32(fi.Mode().Perm())
	if fi.Mode()&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	if fi.Mode()&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if fi.Mode()&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	return fmt.Sprintf("%04o", m)
}
