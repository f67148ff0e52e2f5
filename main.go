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

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
	"github.com/passtunnel/passtunnel/pki"
)

const usage = `passtunnel: a TLS tunnel for cleartext daemons

Usage:
  passtunnel run    [FILE]            run every tunnel of FILE
                                       (default $PASSTUNNEL_CONFIG or ./passtunnel.hcl)
  passtunnel check  [-skip-files] [FILE]
                                       validate FILE and print each tunnel's plan
  passtunnel server --listen ADDR --target ADDR [flags]   one TLS-in tunnel, no file
  passtunnel client --listen ADDR --target ADDR [flags]   one TLS-out tunnel, no file
  passtunnel pki ca (--passphrase-file F | --passphrase-env VAR) [--cluster NAME]
                                       the CA derived from a passphrase, and its fingerprint
  passtunnel pki issue --name N --out DIR (--passphrase-file F | --passphrase-env VAR)
                                       a node certificate for a program that speaks TLS itself
  passtunnel pki fingerprint FILE      SHA-256 fingerprint of a PEM certificate
  passtunnel pki passphrase            a new random passphrase (140 bits) and cluster name
  passtunnel rules  [-apply|-remove] [-backend nftables|iptables] [FILE]
                                       firewall rules and routes of the transparent tunnels
  passtunnel import stunnel FILE       stunnel.conf -> HCL on stdout, what was not carried on stderr
  passtunnel import ghostunnel -- ARGS a ghostunnel command line -> HCL
  passtunnel demo                      an encrypted loop on localhost, nothing to prepare
  passtunnel completion bash|zsh|fish  a shell completion script
  passtunnel man                       this manual as a man page (roff)
  passtunnel version

Every command takes -h. "passtunnel server -h" lists the tunnel flags.
Relative paths in a config file are relative to the file's directory.
`

func main() {
	// First: nothing secret has been read yet.
	scrub := daemon.HardenProcess()
	// One Environ for the life of the process: a secret variable it takes
	// is gone from the environment, and a config reload finds it here.
	loader := config.Loader{Env: config.NewEnviron(scrub)}
	os.Exit(runCLI(os.Args[1:], os.Stdout, os.Stderr, loader))
}

// errUsage marks an error already explained to the user by a usage text
// or a line on stderr: the exit status is 2.
var errUsage = errors.New("usage")

// usageLine is a usage error that is not printed yet: runCLI prints it as
// one line, and exits 2.
type usageLine string

func (u usageLine) Error() string        { return string(u) }
func (u usageLine) Is(target error) bool { return target == errUsage }

func runCLI(args []string, stdout, stderr io.Writer, loader config.Loader) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		err = cmdRun(rest, stdout, stderr, loader)
	case "check":
		err = cmdCheck(rest, stdout, stderr, loader)
	case "server", "client":
		err = cmdSingle(cmd, rest, stdout, stderr, loader)
	case "pki":
		err = cmdPKI(rest, stdout, stderr, loader)
	case "rules":
		err = cmdRules(rest, stdout, stderr, loader)
	case "import":
		err = cmdImport(rest, stdout, stderr)
	case "demo":
		err = cmdDemo(rest, stdout, stderr)
	case "completion":
		err = cmdCompletion(rest, stdout, stderr)
	case "man":
		err = cmdMan(rest, stdout, stderr)
	case "version", "-version", "--version":
		err = cmdVersion(rest, stdout, stderr)
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
		var line usageLine
		if errors.As(err, &line) {
			fmt.Fprintf(stderr, "passtunnel %s: %s\n", args[0], line)
		}
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

// configPath is the config file a command reads: the -config flag or the
// FILE argument (both only when they agree), then $PASSTUNNEL_CONFIG, then
// ./passtunnel.hcl. A file that was named is never replaced by another.
func configPath(flagValue, arg string) (string, error) {
	switch {
	case flagValue != "" && arg != "" && flagValue != arg:
		return "", usageLine("-config " + flagValue + " and the argument " + arg +
			" name two different config files: give one")
	case flagValue != "":
		return flagValue, nil
	case arg != "":
		return arg, nil
	}
	if env := os.Getenv("PASSTUNNEL_CONFIG"); env != "" {
		return env, nil
	}
	return "passtunnel.hcl", nil
}

// configFlag registers -config and returns what loads the config it or the
// FILE argument names, to call once fs is parsed (with at most one
// argument), so that run, check and rules find a config the same way.
func configFlag(fs *flag.FlagSet, loader config.Loader) func() (*config.Config, error) {
	path := fs.String("config", "", "config `FILE`, also given as the argument (default $PASSTUNNEL_CONFIG or ./passtunnel.hcl)")
	return func() (*config.Config, error) {
		p, err := configPath(*path, fs.Arg(0))
		if err != nil {
			return nil, err
		}
		return loader.Load(p)
	}
}

// noSandboxFlag registers --no-sandbox: the process stays unrestricted
// instead of confining itself to its config's files after start.
func noSandboxFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("no-sandbox", false, "do not restrict the process to its config's files after start "+
		"(Linux Landlock; see docs/behaviour.md#sandbox)")
}

// stateDirFlag registers --state-dir, where what passtunnel makes and must
// find again after a restart is kept (self-signed certificates).
func stateDirFlag(fs *flag.FlagSet) *string {
	return fs.String("state-dir", pki.DefaultStateDir, "`DIR` for state kept across restarts (self-signed certificates); "+
		"the default falls back to $XDG_STATE_HOME/passtunnel or ~/.local/state/passtunnel when not writable")
}
