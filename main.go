// Command passtunnel carries a cleartext daemon's TCP traffic over mutually
// authenticated TLS. This package is the CLI only: main.go dispatches, and
// each command has a cmd_*.go file that parses its flags and hands over to
// package daemon (the running set: tunnels, reload, signals, admin) or pki.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
	"github.com/passtunnel/passtunnel/pki"
)

const usage = `passtunnel: a TLS tunnel for cleartext daemons

Usage:
  passtunnel run    [-config FILE]     run every tunnel of FILE
                                       (default $PASSTUNNEL_CONFIG or ./passtunnel.hcl)
  passtunnel check  [-config FILE] [-skip-files]
                                       validate FILE and print each tunnel's plan
  passtunnel server --listen ADDR --target ADDR [flags]   one TLS-in tunnel, no file
  passtunnel client --listen ADDR --target ADDR [flags]   one TLS-out tunnel, no file
  passtunnel pki ca (--passphrase-file F | --passphrase-env VAR) [--cluster NAME]
                                       the CA derived from a passphrase, and its fingerprint
  passtunnel pki issue --name N --out DIR (--passphrase-file F | --passphrase-env VAR)
                                       a node certificate for a program that speaks TLS itself
  passtunnel pki fingerprint FILE      SHA-256 fingerprint of a PEM certificate
  passtunnel pki passphrase            a new random passphrase (140 bits) and cluster name
  passtunnel rules  [-config FILE] [-apply|-remove] [-backend nftables|iptables]
                                       firewall rules and routes of the transparent tunnels
  passtunnel import stunnel FILE       stunnel.conf -> HCL on stdout, what was not carried on stderr
  passtunnel import ghostunnel -- ARGS a ghostunnel command line -> HCL
  passtunnel demo                      an encrypted loop on localhost, nothing to prepare
  passtunnel version

Run "passtunnel server -h" for the tunnel flags.
`

func main() {
	// First: nothing secret has been read yet.
	scrub := daemon.HardenProcess()
	// Connections are long-lived and allocate almost nothing once they
	// pump, so the heap is mostly live connection state; the default GC
	// headroom (GOGC=100) would double the memory of an idle fleet. 50
	// keeps RSS near the live heap at no measurable handshake cost. An
	// operator's own $GOGC wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	// One Environ for the life of the process: a secret variable it takes
	// is gone from the environment, and a config reload finds it here.
	loader := config.Loader{Env: config.NewEnviron(scrub)}
	os.Exit(runCLI(os.Args[1:], os.Stdout, os.Stderr, loader))
}

// errUsage marks an error already explained to the user by a usage text.
var errUsage = errors.New("usage")

func runCLI(args []string, stdout, stderr io.Writer, loader config.Loader) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		err = cmdRun(rest, stderr, loader)
	case "check":
		err = cmdCheck(rest, stdout, stderr, loader)
	case "server", "client":
		err = cmdSingle(cmd, rest, stderr, loader)
	case "pki":
		err = cmdPKI(rest, stdout, stderr, loader)
	case "rules":
		err = cmdRules(rest, stdout, stderr, loader)
	case "import":
		err = cmdImport(rest, stdout, stderr)
	case "demo":
		err = cmdDemo(stdout, stderr)
	case "version", "-version", "--version":
		cmdVersion(stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "passtunnel: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case isLocated(err):
		// The message starts with file:line:col (or "flag --x"): printed as
		// is, so editors and CI annotations can jump to it.
		fmt.Fprintln(stderr, err)
		return 1
	default:
		fmt.Fprintln(stderr, "passtunnel:", err)
		return 1
	}
}

func isLocated(err error) bool {
	var (
		l  daemon.Located
		es config.Errors
		e  config.Error
	)
	return errors.As(err, &l) || errors.As(err, &es) || errors.As(err, &e)
}

// configPath resolves -config: the flag, then $PASSTUNNEL_CONFIG, then ./passtunnel.hcl.
func configPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if env := os.Getenv("PASSTUNNEL_CONFIG"); env != "" {
		return env
	}
	return "passtunnel.hcl"
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
