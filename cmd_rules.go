package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/netrules"
)

// rulesTimeout bounds applying or removing the rules: a handful of nft,
// iptables and ip commands.
const rulesTimeout = time.Minute

// cmdRules prints the firewall rules and routes the transparent tunnels of
// a config need, or applies or removes them (which takes CAP_NET_ADMIN:
// in Kubernetes, an init container's job).
func cmdRules(args []string, stdout, stderr io.Writer, loader config.Loader) error {
	fs := newFlagSet("rules", "[flags] [FILE]")
	load := configFlag(fs, loader)
	apply := fs.Bool("apply", false, "apply the rules (idempotent: again replaces them)")
	remove := fs.Bool("remove", false, "remove every rule and route passtunnel applied")
	backend := fs.String("backend", "", "`BACKEND`: nftables or iptables (default nftables when nft is installed)")
	if err := parseFlags(fs, args, 1, stdout, stderr); err != nil {
		return err
	}
	if *apply && *remove {
		fmt.Fprintln(stderr, "passtunnel rules: -apply and -remove exclude each other")
		return errUsage
	}
	if *backend == "" {
		*backend = netrules.IPTables
		if _, err := exec.LookPath("nft"); err == nil {
			*backend = netrules.NFTables
		}
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	var steps []netrules.Step
	if *remove {
		steps, err = netrules.RemoveSteps(*backend)
	} else {
		steps, err = netrules.Build(cfg).Steps(*backend)
	}
	if err != nil {
		return err
	}
	if !*apply && !*remove {
		fmt.Fprintf(stdout, "# passtunnel rules for %s (%s); passtunnel rules -apply runs these\n", cfg.File, *backend)
		fmt.Fprint(stdout, netrules.Script(steps))
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), rulesTimeout)
	defer cancel()
	if err := netrules.Run(ctx, steps); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%w (install it, or choose the other -backend)", err)
		}
		return err
	}
	what := "applied"
	if *remove {
		what = "removed"
	}
	fmt.Fprintf(stderr, "passtunnel rules: %s (%s)\n", what, *backend)
	return nil
}
