package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet is the flag set of `passtunnel NAME`. Its usage text is the
// synopsis ("[-config FILE] [FILE]") and the flags; parseFlags decides
// where it goes.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), strings.TrimSpace("usage: passtunnel "+name+" "+synopsis))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags is how every command reads its arguments, so that they all
// behave alike: -h prints the usage on stdout and ends the command with
// flag.ErrHelp (exit 0); a bad flag or more than maxArgs positional
// arguments print one line on stderr and end it with errUsage (exit 2),
// not the whole usage, which would bury the line that matters.
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard) // the flag package's messages are replaced by ours
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		if probe, ok := stdout.(*flagProbe); ok {
			probe.fs = fs // asked for the flags, not the text (cli_commands.go)
			return flag.ErrHelp
		}
		fs.SetOutput(stdout)
		fs.Usage()
		return flag.ErrHelp
	case err != nil:
		fmt.Fprintf(stderr, "passtunnel %s: %s\n", fs.Name(), flagProblem(fs, err))
		return errUsage
	case fs.NArg() > maxArgs:
		fmt.Fprintf(stderr, "passtunnel %s: unexpected argument %q (passtunnel %s -h shows the usage)\n",
			fs.Name(), fs.Arg(maxArgs), fs.Name())
		return errUsage
	}
	return nil
}

// flagProblem is a parse error as one line. An unknown flag names the
// closest flag the command has; a passphrase given as a flag is told where
// a passphrase goes instead. The flag package's errors never hold a value
// of an unknown flag, so a secret typed after --passphrase is not echoed.
func flagProblem(fs *flag.FlagSet, err error) string {
	name, unknown := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !unknown {
		return err.Error() + " (passtunnel " + fs.Name() + " -h shows the flags)"
	}
	msg := "unknown flag --" + name
	if strings.HasSuffix(name, "passphrase") {
		return msg + ": a passphrase is never a flag value: use --" + name + "-file FILE or --" + name +
			"-env VAR (in a config file: " + strings.ReplaceAll(name, "-", "_") + " = file(\"...\") or env(\"...\"))"
	}
	if near := closestFlag(fs, name); near != "" {
		return msg + " (did you mean --" + near + "?)"
	}
	return msg + " (passtunnel " + fs.Name() + " -h shows the flags)"
}

// closestFlag is the flag of fs nearest to name by edit distance, or ""
// when none is near enough to be what was meant.
func closestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if best == "" || d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best == "" || bestDist > max(2, len(name)/3) || bestDist >= len(name) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// isHelp reports whether arg asks for a command's usage.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
