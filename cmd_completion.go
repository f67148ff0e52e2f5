package main

import (
	"fmt"
	"io"
	"strings"
)

// shells are the shells `passtunnel completion` writes a script for.
var shells = []string{"bash", "zsh", "fish"}

const completionUsage = `usage: passtunnel completion bash|zsh|fish

Prints a completion script for the shell: commands, subcommands, every flag
of each command, file names where a FILE is taken. For example:
  bash: source <(passtunnel completion bash)   (or into /etc/bash_completion.d/passtunnel)
  zsh:  passtunnel completion zsh > "${fpath[1]}/_passtunnel"
  fish: passtunnel completion fish > ~/.config/fish/completions/passtunnel.fish
`

// cmdCompletion prints the completion script of one shell. Every script
// is made from the command table and the flag sets the commands register
// (cli_commands.go), so it never lags a new flag.
func cmdCompletion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("completion", "")
	fs.Usage = func() { fmt.Fprint(fs.Output(), completionUsage) }
	if err := parseFlags(fs, args, 1, stdout, stderr); err != nil {
		return err
	}
	var script string
	switch fs.Arg(0) {
	case "bash":
		script = bashCompletion()
	case "zsh":
		script = zshCompletion()
	case "fish":
		script = fishCompletion()
	case "":
		return usageLine("which shell? passtunnel completion bash|zsh|fish")
	default:
		return usageLine(fmt.Sprintf("unknown shell %q: bash, zsh or fish", fs.Arg(0)))
	}
	_, err := io.WriteString(stdout, script)
	return err
}

// describe is s made safe for a one-line description in any of the three
// scripts: its first clause, without quotes or brackets, which
// each shell's syntax gives a meaning.
func describe(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if i := strings.Index(s, "; "); i > 0 {
		s = s[:i]
	}
	s = strings.NewReplacer("[", "(", "]", ")", "'", "’", "\"", "", "`", "", "$", "", "\\", "").Replace(s)
	if r := []rune(s); len(r) > 70 {
		s = strings.TrimSpace(string(r[:67])) + "..."
	}
	return s
}

// flagWords are the flags of a command as "--name" words, split by what
// their value is.
type flagWords struct{ all, valued, files, dirs []string }

func flagWordsOf(words []string) flagWords {
	var w flagWords
	for _, f := range flagsOf(words) {
		name := "--" + f.name
		w.all = append(w.all, name)
		file, dir := f.takesPath()
		switch {
		case file:
			w.files = append(w.files, name)
		case dir:
			w.dirs = append(w.dirs, name)
		case f.value != "":
			w.valued = append(w.valued, name)
		}
	}
	return w
}
