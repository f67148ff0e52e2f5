package main

import (
	"flag"
	"io"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
)

// cmdRun runs every tunnel of a config file until SIGTERM/SIGINT.
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
	return daemon.Serve(cfg, daemon.Process{Loader: loader, StateDir: *stateDir, Stderr: stderr, Version: version})
}
