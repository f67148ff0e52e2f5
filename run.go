package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
	"github.com/passtunnel/passtunnel/proxy"
)

func cmdRun(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default $PASSTUNNEL_CONFIG or ./passtunnel.hcl)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(configPath(*path))
	if err != nil {
		return err
	}
	return serve(cfg, stderr)
}

func cmdSingle(mode string, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	build := config.BindFlags(fs, config.Mode(mode))
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
	return serve(cfg, stderr)
}

// newLogger builds the process logger from the config's log_level and log_format.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	// config validated the value; UnmarshalText cannot fail on it.
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// buildTunnel turns one validated config tunnel into proxy options with a
// ready TLS config. Errors name the tunnel and the field that caused them.
func buildTunnel(m *pki.Manager, t *config.Tunnel, log *slog.Logger) (proxy.Options, error) {
	opts := proxy.Options{
		Name:   t.Name,
		Mode:   t.Mode,
		Listen: t.Listen,
		Target: t.Target,
		Limits: t.Limits,
		Logger: log,
	}
	if t.Passphrase.IsSet() {
		opts.HandshakeHint = fmt.Sprintf("both ends must hold the same passphrase (or have it in previous_passphrases) "+
			"and the same cluster (here %q)", t.Cluster)
	}
	var err error
	switch t.Mode {
	case config.ModeServer:
		opts.TLS, err = m.ServerTLSConfig(t)
	case config.ModeClient:
		opts.TLS, err = m.ClientTLSConfig(t, targetHost(t.Target))
		if t.TLS != nil && t.TLS.InsecureSkipVerify {
			opts.ConnWarning = "insecure_skip_verify is on: the target's certificate is NOT verified; " +
				"this connection is encrypted but not authenticated"
		}
	default:
		err = fmt.Errorf("%s: tunnel %q: mode: unknown mode %q", t.Where("mode"), t.Name, t.Mode)
	}
	if err != nil {
		return opts, located{err}
	}
	return opts, nil
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

// serve starts every tunnel of cfg, then waits for SIGTERM/SIGINT and drains.
func serve(cfg *config.Config, stderr io.Writer) error {
	f, err := newFleet(newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	if err := f.start(cfg); err != nil {
		return err
	}
	return f.wait()
}

// fleet is the set of running tunnels of one process.
type fleet struct {
	log     *slog.Logger
	pki     *pki.Manager
	tunnels []runningTunnel
	done    chan error // an accept loop that ended
	sigs    chan os.Signal
}

type runningTunnel struct {
	cfg    *config.Tunnel
	tunnel *proxy.Tunnel
}

func newFleet(log *slog.Logger) (*fleet, error) {
	m, err := newPKI(log)
	if err != nil {
		return nil, err
	}
	f := &fleet{log: log, pki: m, done: make(chan error, 64), sigs: make(chan os.Signal, 2)}
	// Subscribed before any tunnel listens, so a signal that arrives while
	// tunnels start is not lost (or fatal by default).
	signal.Notify(f.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	return f, nil
}

// newPKI makes the process's one pki.Manager. The node name and the node
// certificate lifetime come from the environment, not the config: they
// describe the host (a pod's name arrives through the downward API as an
// environment variable), not a tunnel.
func newPKI(log *slog.Logger) (*pki.Manager, error) {
	opts := pki.Options{NodeName: os.Getenv("PASSTUNNEL_NODE_NAME"), Logger: log}
	if v := os.Getenv("PASSTUNNEL_NODE_CERT_VALIDITY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("PASSTUNNEL_NODE_CERT_VALIDITY: invalid duration %q", v)
		}
		opts.NodeValidity = d
	}
	return pki.NewManager(opts), nil
}

// start builds every tunnel of cfg before binding any, so that a bad
// certificate in one tunnel stops the start instead of half of it running;
// then it listens and serves them all.
func (f *fleet) start(cfg *config.Config) error {
	opts := make([]proxy.Options, len(cfg.Tunnels))
	for i := range cfg.Tunnels {
		o, err := buildTunnel(f.pki, &cfg.Tunnels[i], f.log)
		if err != nil {
			return err
		}
		opts[i] = o
	}
	var started []runningTunnel
	for i, o := range opts {
		t, err := proxy.Listen(o)
		if err != nil {
			closeAll(started)
			return err
		}
		started = append(started, runningTunnel{cfg: &cfg.Tunnels[i], tunnel: t})
	}
	for _, t := range started {
		go func() { f.done <- t.tunnel.Serve() }()
	}
	f.tunnels = append(f.tunnels, started...)
	return nil
}

// wait blocks until a signal asks to stop, then drains every tunnel.
func (f *fleet) wait() error {
	defer signal.Stop(f.sigs)
	for {
		select {
		case err := <-f.done:
			// An accept loop only ends by itself on a listener failure.
			closeAll(f.tunnels)
			return fmt.Errorf("a tunnel stopped: %w", err)
		case sig := <-f.sigs:
			if sig == syscall.SIGHUP {
				f.log.Warn("SIGHUP received: config reload is not built yet; the running config is kept")
				continue
			}
			f.log.Info("signal received: draining", "signal", sig.String())
			drain(f.tunnels, f.sigs, f.log)
			f.log.Info("drained, exiting")
			return nil
		}
	}
}

func closeAll(tunnels []runningTunnel) {
	for _, t := range tunnels {
		_ = t.tunnel.Close()
	}
}

// drain shuts every tunnel down at once, each bounded by its own
// drain_timeout. A second SIGTERM/SIGINT cuts the drain short, as an operator
// pressing Ctrl-C twice expects.
func drain(tunnels []runningTunnel, sigs <-chan os.Signal, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, t := range tunnels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tctx, tcancel := context.WithTimeout(ctx, t.cfg.Limits.DrainTimeout)
			defer tcancel()
			if err := t.tunnel.Shutdown(tctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				log.Warn("drain ended with an error", "tunnel", t.cfg.Name, "error", err)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for {
		select {
		case <-finished:
			return
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				continue
			}
			log.Warn("second signal: closing open connections now", "signal", sig.String())
			cancel()
		}
	}
}
