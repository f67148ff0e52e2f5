package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// Process is what the command line hands the supervisor.
type Process struct {
	Loader   config.Loader // what loaded the config, and loads it again on reload
	StateDir string        // --state-dir: what must survive a restart (self-signed certificates)
	Stderr   io.Writer     // the log
	Version  string        // the build's version, for passtunnel_build_info
	// NoSandbox (--no-sandbox) leaves the process unrestricted instead of
	// confining it to its config's files after start (sandbox.go).
	NoSandbox bool
}

// Serve starts every tunnel of cfg, then reloads on SIGHUP and when the
// config's files change (with p.Loader, which cfg came from), until
// SIGTERM/SIGINT drains and ends it.
func Serve(cfg *config.Config, p Process) error {
	log, level := NewLogger(cfg, p.Stderr)
	f, err := newFleet(log, level, p.StateDir)
	if err != nil {
		return err
	}
	defer f.pki.Close() // stops file watchers and ACME renewals
	defer f.notify.Close()
	if err := f.inheritSockets(); err != nil {
		return err
	}
	f.cfg, f.format, f.loader, f.version = cfg, cfg.LogFormat, p.Loader, p.Version
	if err := f.startAdmin(cfg.Admin); err != nil {
		return err
	}
	defer f.admin.close()
	// Watching starts before any tunnel listens: an edit made as soon as
	// the process looks ready must not be mistaken for the loaded content.
	f.watchConfig()
	defer f.watch.close()
	if err := f.start(cfg); err != nil {
		return err
	}
	// After every tunnel is built and bound: certificates are read, and
	// the sandbox allows reading them again, not what was read only once.
	if !p.NoSandbox {
		if f.sandbox, err = enterSandbox(log, cfg, p.StateDir); err != nil {
			return err
		}
	}
	f.notify.Ready(fmt.Sprintf("%d tunnels listening", len(f.tunnels)))
	go f.trim.run(f.ctx, log)
	f.trim.request() // what loading the config and certificates left behind
	f.wait()
	return nil
}

// newPKI makes the process's one pki.Manager. The node name and the node
// certificate lifetime come from the environment, not the config: they
// describe the host (a pod's name arrives through the downward API as an
// environment variable), not a tunnel. stateDir is the --state-dir value.
func newPKI(log *slog.Logger, stateDir string) (*pki.Manager, error) {
	opts, err := pkiOptions(log, stateDir)
	if err != nil {
		return nil, err
	}
	return pki.NewManager(opts), nil
}

// pkiOptions are the pki.Manager options of the command line and the
// environment.
func pkiOptions(log *slog.Logger, stateDir string) (pki.Options, error) {
	opts := pki.Options{NodeName: os.Getenv("PASSTUNNEL_NODE_NAME"), Logger: log, StateDir: stateDir}
	if v := os.Getenv("PASSTUNNEL_NODE_CERT_VALIDITY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return opts, fmt.Errorf("PASSTUNNEL_NODE_CERT_VALIDITY: invalid duration %q", v)
		}
		opts.NodeValidity = d
	}
	return opts, nil
}

// NewLogger builds the process logger from the config's log_level and
// log_format. The level is a LevelVar, so that a reload can change it.
func NewLogger(cfg *config.Config, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.Set(parseLevel(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}

func parseLevel(s string) slog.Level {
	var level slog.Level
	// config validated the value; UnmarshalText cannot fail on it.
	_ = level.UnmarshalText([]byte(s))
	return level
}
