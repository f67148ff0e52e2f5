package daemon

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"

	"github.com/passtunnel/passtunnel/config"
)

// sandboxABI is the Landlock ABI asked for: V8, the last that restricts
// files only. V9 and later also restrict connecting to unix sockets, which
// a tunnel's target or a SPIFFE Workload API may be at, and the proxy
// reaches targets as it reaches the network: unrestricted.
var sandboxABI = landlock.V8

// enterSandbox restricts every thread of the process, for good, to the
// paths cfg needs after start (pathsOf). Best effort: a kernel without
// Landlock, or with an older ABI, restricts what it can, and nothing fails.
func enterSandbox(log *slog.Logger, cfg *config.Config, stateDir string) (*sandbox, error) {
	abi, err := llsys.LandlockGetABIVersion()
	if err != nil || abi < 1 {
		log.Info("sandbox: the kernel has no Landlock; the process is not restricted")
		return nil, nil
	}
	// crypto/x509 reads the system roots once, at first use; read them
	// now, while their directories can still be read.
	_, _ = x509.SystemCertPool()
	p, err := restrictRetrying(pathsOf(cfg, stateDir))
	if err != nil {
		return nil, fmt.Errorf("sandbox: landlock: %w (run with --no-sandbox to go without)", err)
	}
	log.Info(fmt.Sprintf("sandbox: landlock ABI %d", min(abi, 8)), "read", p.read, "write", p.write)
	return &sandbox{paths: p}, nil
}

// sandboxWait bounds how long entering the sandbox waits for the few
// descriptors it needs: a flood of connections right at start can take
// them all for a moment (the admin endpoint frees a silent one within its
// 5 s header timeout), and that must not end the process, nor leave a
// path out of the sandbox because it could not be opened just then.
const sandboxWait = 10 * time.Second

// restrictRetrying restricts the process to p's openable paths, trying
// again while the process is out of descriptors, and returns the paths
// the sandbox allows.
func restrictRetrying(p sandboxPaths) (sandboxPaths, error) {
	deadline := time.Now().Add(sandboxWait)
	for {
		got, err := restrict(p)
		if err == nil || !outOfDescriptors(err) || time.Now().After(deadline) {
			return got, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func restrict(p sandboxPaths) (sandboxPaths, error) {
	for _, paths := range []*[]string{&p.read, &p.files, &p.write} {
		var err error
		if *paths, err = openable(*paths); err != nil {
			return p, err
		}
	}
	return p, sandboxABI.BestEffort().RestrictPaths(
		landlock.RODirs(p.read...).IgnoreIfMissing(),
		landlock.ROFiles(p.files...).IgnoreIfMissing(),
		landlock.RWDirs(p.write...).IgnoreIfMissing(),
	)
}

func outOfDescriptors(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE)
}

// openable keeps the paths this process can open: a rule needs an open
// file, and a path it cannot reach (missing, or another user's home as a
// state directory candidate) it could not use anyway. Out of descriptors,
// it cannot tell, and says so.
func openable(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
		if outOfDescriptors(err) {
			return nil, fmt.Errorf("open %s: %w", p, err)
		}
		if err == nil {
			_ = unix.Close(fd)
			out = append(out, p)
		}
	}
	return out, nil
}
