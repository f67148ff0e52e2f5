package main

import (
	"fmt"
	"strings"
)

// bashCompletion is the bash script: a function that finds the command
// among the first words, then offers its flags (with one dash or two, as
// typed), file names after a flag that takes a FILE or DIR, and file names
// for a command's FILE argument.
func bashCompletion() string {
	firsts, seconds := groups()
	var b strings.Builder
	b.WriteString(`# bash completion for passtunnel (made by: passtunnel completion bash)
_passtunnel() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd=${COMP_WORDS[1]}
    if ((COMP_CWORD == 1)); then
`)
	fmt.Fprintf(&b, "        mapfile -t COMPREPLY < <(compgen -W '%s' -- \"$cur\")\n        return\n    fi\n", strings.Join(append(firsts, "help"), " "))
	b.WriteString("    case $cmd in\n")
	for _, first := range firsts {
		if subs := seconds[first]; len(subs) > 0 {
			fmt.Fprintf(&b, "    %s)\n        if ((COMP_CWORD == 2)); then\n", first)
			fmt.Fprintf(&b, "            mapfile -t COMPREPLY < <(compgen -W '%s' -- \"$cur\")\n            return\n        fi\n", strings.Join(subs, " "))
			b.WriteString("        cmd=\"$cmd ${COMP_WORDS[2]}\" ;;\n")
		}
	}
	b.WriteString("    esac\n    local flags='' valued='' files='' dirs='' args=none\n    case $cmd in\n")
	for _, c := range commands {
		w := flagWordsOf(splitWords(c.words))
		args := map[argKind]string{argNone: "none", argFile: "file", argWords: "words"}[c.args]
		fmt.Fprintf(&b, "    '%s')\n        flags='%s'\n        valued='%s' files='%s' dirs='%s' args=%s ;;\n",
			c.words, strings.Join(w.all, " "), spaced(w.valued), spaced(w.files), spaced(w.dirs), args)
	}
	b.WriteString(`    esac
    # The value of a flag: a file name, a directory, or nothing to offer.
    local p=${prev#-}
    p=--${p#-}
    if [[ $prev == -* ]]; then
        if [[ $files == *" $p "* ]]; then
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return
        elif [[ $dirs == *" $p "* ]]; then
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return
        elif [[ $valued == *" $p "* ]]; then
            COMPREPLY=()
            return
        fi
    fi
    if [[ $cur == --* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
    elif [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "${flags//--/-}" -- "$cur")
    elif [[ $args == file ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    else
        COMPREPLY=()
    fi
}
complete -F _passtunnel passtunnel
`)
	return b.String()
}

// spaced is words joined and surrounded by spaces, for the script's
// " $word " membership test.
func spaced(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return " " + strings.Join(words, " ") + " "
}
