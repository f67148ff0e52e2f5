package main

import (
	"io"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
)

// cmdRun runs every tunnel of a config file until SIGTERM/SIGINT.
func cmdRun(args []string, stdout, stderr io.Writer, loader config.Loader) error {
	fs := newFlagSet("run", "[flags] [FILE]")
	load := configFlag(fs, loader)
	stateDir, noSandbox := stateDirFlag(fs), noSandboxFlag(fs)
	if err := parseFlags(fs, args, 1, stdout, stderr); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	return daemon.Serve(cfg, daemon.Process{Loader: loader, StateDir: *stateDir, NoSandbox: *noSandbox, Stderr: stderr, Version: version})
}
