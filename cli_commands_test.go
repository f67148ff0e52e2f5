package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// TestCommandTableMatchesUsage: the command table that completion and the
// man page are made from names every command of the usage text and no
// other, each one dispatches (its -h exits 0), and each that parses flags
// hands its flag set to the probe.
func TestCommandTableMatchesUsage(t *testing.T) {
	var inUsage []string
	for _, line := range strings.Split(usage, "\n") {
		rest, ok := strings.CutPrefix(line, "  passtunnel ")
		if !ok {
			continue
		}
		words := strings.Fields(rest)
		cmd := words[0]
		if len(words) > 1 && (cmd == "pki" || cmd == "import") {
			cmd += " " + words[1]
		}
		inUsage = append(inUsage, cmd)
	}
	var inTable []string
	for _, c := range commands {
		inTable = append(inTable, c.words)
	}
	if strings.Join(inUsage, ",") != strings.Join(inTable, ",") {
		t.Errorf("usage lists %v,\ncommand table %v", inUsage, inTable)
	}
	for _, c := range commands {
		var out, errOut bytes.Buffer
		if code := runCLI(append(splitWords(c.words), "-h"), &out, &errOut, config.Loader{}); code != 0 {
			t.Errorf("passtunnel %s -h: exit %d, stderr %q", c.words, code, errOut.String())
		}
		if fs := commandFlags(splitWords(c.words)); (fs == nil) != (c.args == argWords) {
			t.Errorf("passtunnel %s: flag set %v, want one unless it takes another program's arguments", c.words, fs)
		}
	}
}

// needProgram is the path of an external program the test runs, or skips
// the test naming it (fails under PASSTUNNEL_REQUIRE_PEERS=1).
func needProgram(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("PASSTUNNEL_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s is not installed and PASSTUNNEL_REQUIRE_PEERS=1", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return path
}

// cli runs the command line and returns its stdout; it fails t on a
// non-zero exit.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := runCLI(args, &out, &errOut, config.Loader{}); code != 0 {
		t.Fatalf("passtunnel %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

// tunnelFlagNames are the names of every server and client flag.
func tunnelFlagNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, f := range tunnelFlags() {
		names = append(names, f.name)
	}
	if len(names) < 40 {
		t.Fatalf("only %d server/client flags: the probe did not see the flag set", len(names))
	}
	return names
}
