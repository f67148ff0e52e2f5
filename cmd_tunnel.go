package main

import (
	"io"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
)

// cmdSingle is both `server` and `client`: one tunnel from flags, no file.
// The two commands differ only in the mode their flags build, so they share
// this file.
func cmdSingle(mode string, args []string, stdout, stderr io.Writer, loader config.Loader) error {
	fs := newFlagSet(mode, "--listen ADDR --target ADDR [flags]")
	stateDir, noSandbox := stateDirFlag(fs), noSandboxFlag(fs)
	build := loader.BindFlags(fs, config.Mode(mode))
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	cfg, err := build()
	if err != nil {
		return err
	}
	return daemon.Serve(cfg, daemon.Process{Loader: loader, StateDir: *stateDir, NoSandbox: *noSandbox, Stderr: stderr, Version: version})
}
