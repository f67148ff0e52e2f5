package main

import (
	"fmt"
	"io"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
)

// cmdCheck validates a config and prints what each tunnel will do. Unless
// -skip-files is given it also loads every certificate, key and CA file, so
// that a missing or mismatched file is found before a deploy, not after.
func cmdCheck(args []string, stdout, stderr io.Writer, loader config.Loader) error {
	fs := newFlagSet("check", "[flags] [FILE]")
	load := configFlag(fs, loader)
	skipFiles := fs.Bool("skip-files", false, "do not load certificate, key and CA files "+
		"(for checking a config away from the host it runs on)")
	stateDir := stateDirFlag(fs)
	if err := parseFlags(fs, args, 1, stdout, stderr); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	facts := make([]daemon.FileFacts, len(cfg.Tunnels))
	if !*skipFiles {
		if facts, err = daemon.CheckFiles(cfg, *stateDir); err != nil {
			return err
		}
	}
	for i := range cfg.Tunnels {
		fmt.Fprint(stdout, daemon.PlanChecked(&cfg.Tunnels[i], facts[i]))
	}
	if cfg.Admin != nil {
		fmt.Fprintf(stdout, "admin %s: /metrics, /healthz, /readyz\n", cfg.Admin)
	}
	fmt.Fprintf(stdout, "%s: OK, %d tunnel(s)\n", cfg.File, len(cfg.Tunnels))
	return nil
}
