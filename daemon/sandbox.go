package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// sandboxPaths are what the process may still touch once it restricts
// itself (sandbox_linux.go): directories, so that a file replaced by a
// rename or a Kubernetes symlink swap in its directory is still readable.
type sandboxPaths struct {
	read  []string // directories read (with everything below them)
	files []string // single files read: name resolution, the listen backlog
	write []string // directories read and written: state, unix sockets
}

// systemFiles are read by the Go runtime and resolver after start: DNS
// configuration (the resolver re-reads it when it changes) and the listen
// backlog, read at the first listen.
var systemFiles = []string{
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf",
	"/etc/services", "/etc/gai.conf", "/proc/sys/net/core/somaxconn",
}

// pathsOf is what cfg reads and writes after start. stateDir is the
// --state-dir value: the default names two candidates (pki.ResolveStateDir).
func pathsOf(cfg *config.Config, stateDir string) sandboxPaths {
	var p sandboxPaths
	p.files = systemFiles
	for _, f := range systemFiles[:3] {
		// systemd-resolved's /etc/resolv.conf is a link into a directory
		// where it replaces the file by rename.
		if real, err := filepath.EvalSymlinks(f); err == nil && real != f {
			p.read = append(p.read, filepath.Dir(real))
		}
	}
	// The process collector of /metrics reads its own stat, status,
	// limits and fd (RSS, CPU, descriptors); denied, it drops those
	// metrics without a word.
	p.read = append(p.read, "/proc/self")
	p.write = append(p.write, stateDirs(stateDir)...)
	p.write = append(p.write, unixDirs(cfg)...)
	p.read = append(p.read, dirsOf(namedFiles(cfg))...)
	for _, t := range cfg.Tunnels {
		if t.ACME != nil && t.ACME.Storage != "" {
			p.write = append(p.write, t.ACME.Storage)
		}
	}
	p.read, p.write = compact(p.read), compact(p.write)
	return p
}

// unixDirs are the directories of the unix sockets cfg listens on (the
// tunnels' and the admin endpoint's), where a socket is made and removed.
func unixDirs(cfg *config.Config) []string {
	var dirs []string
	for _, t := range cfg.Tunnels {
		if t.Listen.Network == config.NetUnix {
			dirs = append(dirs, filepath.Dir(t.Listen.Addr))
		}
	}
	if cfg.Admin != nil && cfg.Admin.Network == config.NetUnix {
		dirs = append(dirs, filepath.Dir(cfg.Admin.Addr))
	}
	return dirs
}

// namedFiles are the config file and every file it names.
func namedFiles(cfg *config.Config) []string {
	var files []string
	if cfg.File != "" {
		files = append(files, cfg.File)
		for _, f := range cfg.Files {
			if !filepath.IsAbs(f) {
				f = filepath.Join(filepath.Dir(cfg.File), f)
			}
			files = append(files, f)
		}
	}
	for _, t := range cfg.Tunnels {
		if t.TLS != nil {
			files = append(files, t.TLS.Cert, t.TLS.Key, t.TLS.CA, t.TLS.PKCS12)
			files = append(files, t.TLS.CRL...)
		}
		if t.ACME != nil {
			files = append(files, t.ACME.TrustedRoots)
		}
	}
	return slices.DeleteFunc(files, func(f string) bool { return f == "" })
}

// dirsOf are the directories of files, and of where their symlinks lead.
func dirsOf(files []string) []string {
	var dirs []string
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			continue
		}
		dirs = append(dirs, filepath.Dir(abs))
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	return dirs
}

// stateDirs are the state directories the process may use: the one given,
// or for the default both candidates, as pki picks the first writable one
// when a tunnel first needs it.
func stateDirs(flagValue string) []string {
	if flagValue != "" && flagValue != pki.DefaultStateDir {
		abs, err := filepath.Abs(flagValue)
		if err != nil {
			return nil
		}
		return []string{abs}
	}
	dirs := []string{pki.DefaultStateDir}
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		dirs = append(dirs, filepath.Join(x, "passtunnel"))
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".local", "state", "passtunnel"))
	}
	return dirs
}

// compact sorts dirs and drops duplicates and directories below another.
func compact(dirs []string) []string {
	slices.Sort(dirs)
	var out []string
	for _, d := range dirs {
		if len(out) == 0 || !within(d, out[len(out)-1]) {
			out = append(out, d)
		}
	}
	return out
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// sandbox is the set a process restricted itself to; nil when it did not.
type sandbox struct {
	paths sandboxPaths
}

// errSandbox marks what the sandbox refuses, so that the message says how
// to get past it.
var errSandbox = errors.New("outside the sandbox this process restricted itself to at start, " +
	"to the directories of the config it started with (restart passtunnel to use it, or run it with --no-sandbox)")

// admit refuses a reloaded config that reads or writes a directory the
// sandbox does not allow: the kernel would refuse it anyway, with a bare
// "permission denied" somewhere in the middle of building a tunnel.
func (s *sandbox) admit(cfg *config.Config) error {
	if s == nil {
		return nil
	}
	for _, f := range namedFiles(cfg) {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			continue // the load names a missing file better, with its position
		}
		for _, d := range dirsOf([]string{f}) {
			if !s.allows(d, false) {
				return fmt.Errorf("sandbox: %s is in %s, %w", f, d, errSandbox)
			}
		}
	}
	for _, d := range unixDirs(cfg) {
		if !s.allows(d, true) {
			return fmt.Errorf("sandbox: unix socket directory %s is %w", d, errSandbox)
		}
	}
	return nil
}

// explain names the sandbox in an error the kernel's refusal caused.
func (s *sandbox) explain(err error) error {
	if s == nil || err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	return fmt.Errorf("%w (if the file is new: it may be %w)", err, errSandbox)
}

func (s *sandbox) allows(dir string, write bool) bool {
	dirs := s.paths.write
	if !write {
		dirs = append(slices.Clip(s.paths.read), dirs...)
	}
	return slices.ContainsFunc(dirs, func(d string) bool { return within(dir, d) })
}
