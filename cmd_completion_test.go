package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionScriptsHoldEveryFlag: each shell's script names every flag
// of every command, and its shell accepts its syntax (bash -n, zsh -n,
// fish -n).
func TestCompletionScriptsHoldEveryFlag(t *testing.T) {
	for _, shell := range shells {
		t.Run(shell, func(t *testing.T) {
			script := cli(t, "completion", shell)
			for _, c := range commands {
				for _, f := range flagsOf(splitWords(c.words)) {
					want := "--" + f.name
					if shell == "fish" {
						want = "-l " + f.name + " "
					}
					if !strings.Contains(script, want) {
						t.Errorf("%s script lacks %s of %s", shell, want, c.words)
					}
				}
			}
			bin := needProgram(t, shell)
			path := filepath.Join(t.TempDir(), "passtunnel."+shell)
			if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "-n", path).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// TestBashCompletion: bash with the script sourced completes commands,
// subcommands, flags with one dash or two, and file names for a FILE,
// and offers nothing for a flag's value that is not a file.
func TestBashCompletion(t *testing.T) {
	bash := needProgram(t, "bash")
	dir := t.TempDir()
	script := filepath.Join(dir, "passtunnel.bash")
	if err := os.WriteFile(script, []byte(cli(t, "completion", "bash")), 0o600); err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(dir, "files")
	if err := os.Mkdir(files, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cert.pem", "tunnels.hcl"} {
		if err := os.WriteFile(filepath.Join(files, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		words []string // the last one is being completed
		want  string
	}{
		{[]string{"ser"}, "server"},
		{[]string{"server", "--lis"}, "--listen --listen-mode"},
		{[]string{"client", "-targ"}, "-target -target-check"},
		{[]string{"pki", "i"}, "issue"},
		{[]string{"pki", "issue", "--o"}, "--out"},
		{[]string{"import", ""}, "stunnel ghostunnel"},
		{[]string{"completion", "z"}, "zsh"},
		{[]string{"check", "-sk"}, "-skip-files"},
		{[]string{"server", "--cert", ""}, "cert.pem tunnels.hcl"},
		{[]string{"check", "t"}, "tunnels.hcl"},
		{[]string{"server", "--listen", ""}, ""},
		{[]string{"server", ""}, ""},
	}
	for _, c := range cases {
		words := append([]string{"passtunnel"}, c.words...)
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `source "$1" && COMP_WORDS=(`+strings.Join(quoted, " ")+
			`) && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _passtunnel && echo "${COMPREPLY[*]}"`, "bash", script)
		cmd.Dir = files
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.words, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("passtunnel %s<TAB>: %q, want %q", strings.Join(c.words, " "), got, c.want)
		}
	}
}
