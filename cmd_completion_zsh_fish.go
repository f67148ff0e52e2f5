package main

import (
	"fmt"
	"strings"
)

// zshCompletion is the zsh script (#compdef): commands and subcommands
// with their summaries, then _arguments with each command's flags, their
// usage as the description, and files where a FILE or DIR is taken.
func zshCompletion() string {
	firsts, seconds := groups()
	var b strings.Builder
	b.WriteString("#compdef passtunnel\n# zsh completion for passtunnel (made by: passtunnel completion zsh)\n\n_passtunnel() {\n")
	b.WriteString("  local -a items\n  if (( CURRENT == 2 )); then\n    items=(\n")
	for _, first := range firsts {
		fmt.Fprintf(&b, "      '%s:%s'\n", first, describe(groupSummary(first)))
	}
	b.WriteString("    )\n    _describe command items\n    return\n  fi\n  local cmd=$words[2]\n  case $cmd in\n")
	for _, first := range firsts {
		subs := seconds[first]
		if len(subs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s)\n    if (( CURRENT == 3 )); then\n      items=(\n", first)
		for _, s := range subs {
			fmt.Fprintf(&b, "        '%s:%s'\n", s, describe(groupSummary(first+" "+s)))
		}
		b.WriteString("      )\n      _describe subcommand items\n      return\n    fi\n")
		b.WriteString("    cmd=\"$cmd $words[3]\"\n    shift words\n    (( CURRENT-- )) ;;\n")
	}
	b.WriteString("  esac\n  shift words\n  (( CURRENT-- ))\n  case $cmd in\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  '%s')\n    _arguments -s", c.words)
		for _, f := range flagsOf(splitWords(c.words)) {
			fmt.Fprintf(&b, " \\\n      '--%s[%s]%s'", f.name, describe(f.usage), zshValue(f))
		}
		if c.args == argFile {
			b.WriteString(" \\\n      '*:file:_files'")
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString("  esac\n}\n\n_passtunnel \"$@\"\n")
	return b.String()
}

// zshValue is the part of an _arguments spec after the description.
func zshValue(f cliFlag) string {
	file, dir := f.takesPath()
	switch {
	case f.value == "":
		return ""
	case file:
		return ":" + f.value + ":_files"
	case dir:
		return ":" + f.value + ":_files -/"
	}
	return ":" + f.value + ": "
}

// fishCompletion is the fish script: one `complete` line per command,
// subcommand and flag, each guarded by the words already typed.
func fishCompletion() string {
	firsts, seconds := groups()
	var b strings.Builder
	b.WriteString("# fish completion for passtunnel (made by: passtunnel completion fish)\ncomplete -c passtunnel -f\n")
	for _, first := range firsts {
		fmt.Fprintf(&b, "complete -c passtunnel -n __fish_use_subcommand -a %s -d '%s'\n", first, describe(groupSummary(first)))
		subs := seconds[first]
		for _, s := range subs {
			fmt.Fprintf(&b, "complete -c passtunnel -n '__fish_seen_subcommand_from %s; and not __fish_seen_subcommand_from %s' -a %s -d '%s'\n",
				first, strings.Join(subs, " "), s, describe(groupSummary(first+" "+s)))
		}
	}
	for _, c := range commands {
		w := splitWords(c.words)
		cond := "__fish_seen_subcommand_from " + w[0]
		if len(w) > 1 {
			cond += "; and __fish_seen_subcommand_from " + w[1]
		}
		if c.args == argFile {
			fmt.Fprintf(&b, "complete -c passtunnel -n '%s' -F\n", cond)
		}
		for _, f := range flagsOf(w) {
			fmt.Fprintf(&b, "complete -c passtunnel -n '%s' -l %s -d '%s'%s\n", cond, f.name, describe(f.usage), fishValue(f))
		}
	}
	return b.String()
}

// fishValue is what a `complete` line says of the flag's value.
func fishValue(f cliFlag) string {
	file, dir := f.takesPath()
	switch {
	case f.value == "":
		return ""
	case file:
		return " -r -F"
	case dir:
		return " -x -a '(__fish_complete_directories)'"
	}
	return " -x"
}

// groupSummary is the summary of the command named words ("pki", "pki
// ca"): its own, or for a group the names of its subcommands.
func groupSummary(words string) string {
	var subs []string
	for _, c := range commands {
		if c.words == words {
			return c.summary
		}
		if w, ok := strings.CutPrefix(c.words, words+" "); ok {
			subs = append(subs, w)
		}
	}
	if words == "completion" || strings.HasPrefix(words, "completion ") {
		return "a completion script for " + strings.TrimPrefix(words, "completion ")
	}
	if words == "help" {
		return "the usage"
	}
	return strings.Join(subs, ", ")
}
