package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestManPage: the page has its sections, every command in its synopsis
// and every server and client flag under OPTIONS, and groff formats it
// without a warning.
func TestManPage(t *testing.T) {
	page := cli(t, "man")
	for _, want := range []string{".TH PASSTUNNEL 1", ".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS",
		".SH OPTIONS", ".SH FILES", ".SH EXAMPLES", ".SH SEE ALSO"} {
		if !strings.Contains(page, want+"\n") && !strings.Contains(page, want+" ") {
			t.Errorf("man page lacks %q", want)
		}
	}
	for _, c := range commands {
		if !strings.Contains(page, `\fBpasstunnel `+roff(c.words)+`\fR`) {
			t.Errorf("man page does not name passtunnel %s", c.words)
		}
	}
	_, options, _ := strings.Cut(page, ".SH OPTIONS")
	for _, name := range tunnelFlagNames(t) {
		if !strings.Contains(options, `\fB\-\-`+roff(name)+`\fR`) {
			t.Errorf("OPTIONS lacks --%s", name)
		}
	}
	groff := needProgram(t, "groff")
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff -man -ww: %v\n%s", err, stderr.String())
	}
}
