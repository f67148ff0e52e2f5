package netrules

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// Backends.
const (
	NFTables = "nftables"
	IPTables = "iptables"
)

// Step is one command of applying or removing the rules. The same steps
// are printed as a shell script (Script) and run (Run), so what is shown
// is what runs.
type Step struct {
	Cmd   []string
	Stdin string // given on standard input (an nft script)
	// OrElse runs when Cmd fails ("create the chain, else flush it");
	// MayFail lets Cmd fail when what it removes is not there.
	OrElse  []string
	MayFail bool
}

// Steps applies the rules with backend, idempotently: applying twice is
// applying once, and what an earlier config needed and this one does not
// goes away.
func (r *Ruleset) Steps(backend string) ([]Step, error) {
	var out []Step
	switch backend {
	case NFTables:
		out = []Step{{Cmd: []string{"nft", "-f", "-"}, Stdin: r.nftScript()}}
	case IPTables:
		out = r.iptablesSteps()
	default:
		return nil, fmt.Errorf("unknown backend %q: want %s or %s", backend, NFTables, IPTables)
	}
	return append(out, r.routeSteps()...), nil
}

// RemoveSteps takes away every rule and route any config applied with
// backend; removing what is not there is no error.
func RemoveSteps(backend string) ([]Step, error) {
	var out []Step
	switch backend {
	case NFTables:
		out = []Step{{Cmd: []string{"nft", "-f", "-"}, Stdin: nftRemove}}
	case IPTables:
		for _, ch := range newRuleset().chains {
			for _, cmd := range []string{"iptables", "ip6tables"} {
				out = append(out, removeChain(cmd, ch)...)
			}
		}
	default:
		return nil, fmt.Errorf("unknown backend %q: want %s or %s", backend, NFTables, IPTables)
	}
	return append(out, unroute(v4|v6)...), nil
}

// routeSteps sets up local delivery by RouteMark for the families that
// need it, and takes it away from the others.
func (r *Ruleset) routeSteps() []Step {
	out := unroute(both &^ r.routed)
	for _, f := range []family{v4, v6} {
		if r.routed&f == 0 {
			continue
		}
		ipf, all := "-4", "0.0.0.0/0"
		if f == v6 {
			ipf, all = "-6", "::/0"
		}
		out = append(out,
			Step{Cmd: []string{"ip", ipf, "rule", "del", "priority", routeTable}, MayFail: true},
			Step{Cmd: []string{"ip", ipf, "rule", "add", "fwmark", fmt.Sprintf("%#x", config.RouteMark), "lookup", routeTable,
				"priority", routeTable}},
			Step{Cmd: []string{"ip", ipf, "route", "replace", "local", all, "dev", "lo", "table", routeTable}})
	}
	return out
}

// unroute takes the local-delivery rule and route of fams away.
func unroute(fams family) []Step {
	var out []Step
	for _, f := range []family{v4, v6} {
		if fams&f == 0 {
			continue
		}
		ipf := map[family]string{v4: "-4", v6: "-6"}[f]
		out = append(out,
			Step{Cmd: []string{"ip", ipf, "rule", "del", "priority", routeTable}, MayFail: true},
			Step{Cmd: []string{"ip", ipf, "route", "flush", "table", routeTable}, MayFail: true})
	}
	return out
}

// Script renders steps as a POSIX shell script.
func Script(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		line := strings.Join(s.Cmd, " ")
		switch {
		case s.Stdin != "":
			fmt.Fprintf(&b, "%s <<'EOF'\n%sEOF\n", line, s.Stdin)
			continue
		case s.OrElse != nil:
			line += " 2>/dev/null || " + strings.Join(s.OrElse, " ")
		case s.MayFail:
			line += " 2>/dev/null || true"
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Run runs steps in order and stops at the first that fails for good.
func Run(ctx context.Context, steps []Step) error {
	for _, s := range steps {
		err := run(ctx, s.Cmd, s.Stdin)
		switch {
		case err == nil, s.MayFail:
		case s.OrElse != nil:
			if err := run(ctx, s.OrElse, ""); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

func run(ctx context.Context, argv []string, stdin string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
