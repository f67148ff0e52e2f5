package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
)

// cmdSingle is both `server` and `client`: one tunnel from flags, no file.
// The two commands differ only in the mode their flags build, so they share
// this file.
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
	return daemon.Serve(cfg, daemon.Process{Loader: loader, StateDir: *stateDir, Stderr: stderr, Version: version})
}
