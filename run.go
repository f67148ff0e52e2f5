package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
	"github.com/passtunnel/passtunnel/proxy"
)

func cmdRun(args []string, stderr io.Writer, loader config.Loader) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	load := configFlag(fs, loader)
	stateDir := stateDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	return serve(cfg, loader, *stateDir, stderr)
}

func cmdSingle(mode string, args []string, stderr io.Writer, loader config.Loader) error {
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := stateDirFlag(fs)
	build := loader.BindFlags(fs, config.Mode(mode))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "passtunnel %s: unexpected argument %q\n", mode, fs.Arg(0))
		return errUsage
	}
	cfg, err := build()
	if err != nil {
		return err
	}
	return serve(cfg, loader, *stateDir, stderr)
}

// newLogger builds the process logger from the config's log_level and
// log_format. The level is a LevelVar, so that a reload can change it.
func newLogger(cfg *config.Config, w io.Writer) (*slog.Logger, *slog.LevelVar) {
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

// buildTunnel turns one validated config tunnel into proxy options with a
// ready TLS config. Errors name the tunnel and the field that caused them.
func buildTunnel(m *pki.Manager, t *config.Tunnel, log *slog.Logger) (proxy.Options, error) {
	opts := proxy.Options{
		Name:   t.Name,
		Mode:   t.Mode,
		Listen: t.Listen,

		ListenMode: t.ListenMode,
		Target:     t.Target,
		Limits:     t.Limits,
		Logger:     log,

		ProxyProtocol: t.ProxyProtocol,
	}
	if t.Passphrase.IsSet() {
		opts.HandshakeHint = fmt.Sprintf("both ends must hold the same passphrase (or have it in previous_passphrases) "+
			"and the same cluster (here %q)", t.Cluster)
	}
	var e *pki.Endpoint
	var err error
	switch t.Mode {
	case config.ModeServer:
		e, err = m.Server(t)
	case config.ModeClient:
		e, err = m.Client(t, targetHost(t.Target))
		if t.TLS != nil && t.TLS.InsecureSkipVerify {
			opts.ConnWarning = "insecure_skip_verify is on: the target's certificate is NOT verified; " +
				"this connection is encrypted but not authenticated"
		}
	default:
		err = fmt.Errorf("%s: tunnel %q: mode: unknown mode %q", t.Where("mode"), t.Name, t.Mode)
	}
	if err == nil {
		opts.TLS, opts.Peer, opts.MaxHandshakeBytes = e.Config, e.Peer, e.MaxHandshakeBytes
		opts.AfterHandshake, err = sharedSecretStep(m, t)
	}
	if err != nil {
		return opts, located{err}
	}
	return opts, nil
}

// sharedSecretStep is the AfterHandshake step of t's shared_secret (nil
// without one): the exchange of proofs with the verified peer.
func sharedSecretStep(m *pki.Manager, t *config.Tunnel) (func(*tls.Conn, *x509.Certificate) error, error) {
	key, err := m.SharedSecret(t)
	if err != nil || key == nil {
		return nil, err
	}
	server := t.Mode == config.ModeServer
	return func(tc *tls.Conn, peer *x509.Certificate) error { return pki.ProveSharedSecret(tc, key, server, peer) }, nil
}

// targetHost is the host a client tunnel verifies when server_name is not set.
func targetHost(a config.Address) string {
	if a.Network != config.NetTCP {
		return ""
	}
	host, _, err := net.SplitHostPort(a.Addr)
	if err != nil {
		return ""
	}
	return host
}

// serve starts every tunnel of cfg, then reloads on SIGHUP and when the
// config's files change (with loader, which cfg came from), until
// SIGTERM/SIGINT drains and ends it.
func serve(cfg *config.Config, loader config.Loader, stateDir string, stderr io.Writer) error {
	log, level := newLogger(cfg, stderr)
	f, err := newFleet(log, level, stateDir)
	if err != nil {
		return err
	}
	defer f.pki.Close() // stops file watchers and ACME renewals
	f.cfg, f.format, f.loader = cfg, cfg.LogFormat, loader
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

// configFlag registers -config and returns what loads the config it names,
// to call once fs is parsed, so that run and check find a config the same way.
func configFlag(fs *flag.FlagSet, loader config.Loader) func() (*config.Config, error) {
	path := fs.String("config", "", "config file (default $PASSTUNNEL_CONFIG or ./passtunnel.hcl)")
	return func() (*config.Config, error) { return loader.Load(configPath(*path)) }
}

// stateDirFlag registers --state-dir, where what passtunnel makes and must
// find again after a restart is kept (self-signed certificates).
func stateDirFlag(fs *flag.FlagSet) *string {
	return fs.String("state-dir", pki.DefaultStateDir, "`DIR` for state kept across restarts (self-signed certificates); "+
		"the default falls back to $XDG_STATE_HOME/passtunnel or ~/.local/state/passtunnel when not writable")
}
