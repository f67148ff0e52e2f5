package main

import (
	"flag"
	"io"
	"slices"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// cliCommand is one command of the command line, as the shell completion
// and the man page describe it. TestCommandTableMatchesUsage holds it to
// the usage text and to runCLI's dispatch.
type cliCommand struct {
	words    string // "run", "pki ca"
	synopsis string // what follows the words
	summary  string // one line
	args     argKind
}

// argKind is what a command's positional arguments are, for completion.
type argKind int

const (
	argNone  argKind = iota
	argFile          // FILE: complete file names
	argWords         // another program's arguments: complete nothing
)

// commands lists every command in the order the usage text gives them.
var commands = []cliCommand{
	{"run", "[flags] [FILE]", "run every tunnel of FILE (default $PASSTUNNEL_CONFIG or ./passtunnel.hcl)", argFile},
	{"check", "[-skip-files] [flags] [FILE]", "validate FILE and print each tunnel's plan", argFile},
	{"server", "--listen ADDR --target ADDR [flags]", "one TLS-in tunnel, no file", argNone},
	{"client", "--listen ADDR --target ADDR [flags]", "one TLS-out tunnel, no file", argNone},
	{"pki ca", "(--passphrase-file F | --passphrase-env VAR) [--cluster NAME]", "the CA derived from a passphrase, and its fingerprint", argNone},
	{"pki issue", "--name N --out DIR (--passphrase-file F | --passphrase-env VAR)", "a node certificate for a program that speaks TLS itself", argNone},
	{"pki fingerprint", "FILE", "SHA-256 fingerprint of a PEM certificate", argFile},
	{"pki passphrase", "", "a new random passphrase (140 bits) and cluster name", argNone},
	{"rules", "[-apply|-remove] [-backend nftables|iptables] [FILE]", "firewall rules and routes of the transparent tunnels", argFile},
	{"import stunnel", "FILE", "stunnel.conf -> HCL on stdout, what was not carried on stderr", argFile},
	{"import ghostunnel", "-- ARGS", "a ghostunnel command line -> HCL", argWords},
	{"demo", "", "an encrypted loop on localhost, nothing to prepare", argNone},
	{"completion", "bash|zsh|fish", "a shell completion script", argNone},
	{"man", "", "this manual as a man page (roff)", argNone},
	{"version", "", "the version and build details", argNone},
}

// flagProbe is the stdout that commandFlags gives a command run with -h:
// parseFlags hands it the command's flag set instead of printing the usage.
// So completion and the man page see exactly the flags each command
// registers, with no second list to keep in step.
type flagProbe struct{ fs *flag.FlagSet }

func (*flagProbe) Write(p []byte) (int, error) { return len(p), nil }

// commandFlags is the flag set of the command named by words ("pki ca"),
// nil when it has none (it parses no flags).
func commandFlags(words []string) *flag.FlagSet {
	probe := &flagProbe{}
	runCLI(append(append([]string(nil), words...), "-h"), probe, io.Discard, config.Loader{})
	return probe.fs
}

// visitFlags calls f for each flag of the command, sorted by name; none
// when it has no flag set.
func visitFlags(words []string, f func(*flag.Flag)) {
	if fs := commandFlags(words); fs != nil {
		fs.VisitAll(f)
	}
}

// splitWords is a command's words ("pki ca") as arguments.
func splitWords(words string) []string { return strings.Fields(words) }

// cliFlag is one flag of a command as completion and the man page show it.
type cliFlag struct {
	name  string // without dashes
	value string // what it takes: "" for a boolean, else FILE, DIR, ADDR, ...
	usage string // the flag's usage text, its value's name unquoted
}

// flagsOf is every flag of the command named by words, sorted by name.
func flagsOf(words []string) []cliFlag {
	var out []cliFlag
	visitFlags(words, func(f *flag.Flag) {
		value, usage := flag.UnquoteUsage(f)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			value = ""
		}
		out = append(out, cliFlag{name: f.Name, value: value, usage: usage})
	})
	return out
}

// takesPath reports whether the flag's value is a file (or, with dir, a
// directory) name, which completion offers from the file system.
func (f cliFlag) takesPath() (file, dir bool) {
	return f.value == "FILE", f.value == "DIR"
}

// groups are the first words of the commands, in order, and the second
// words each takes ("pki": ca, issue, ...; "completion": the shells).
func groups() (firsts []string, seconds map[string][]string) {
	seconds = map[string][]string{"completion": shells}
	for _, c := range commands {
		w := splitWords(c.words)
		if !slices.Contains(firsts, w[0]) {
			firsts = append(firsts, w[0])
		}
		if len(w) > 1 {
			seconds[w[0]] = append(seconds[w[0]], w[1])
		}
	}
	return firsts, seconds
}
