package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/passtunnel/passtunnel/pki"
)

// cmdMan prints the manual page, made from the command table and the
// flags each command registers (the server and client flags come from the
// config's block tables), so it is as current as the binary:
// `passtunnel man | man -l -` reads it, packagers install its output as
// passtunnel.1.
func cmdMan(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("man", "\n\nPrints the manual page (roff). Read it with: passtunnel man | man -l -")
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	_, err := io.WriteString(stdout, manPage())
	return err
}

// manPage is the whole page.
func manPage() string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH PASSTUNNEL 1 \"\" \"passtunnel %s\" \"User Commands\"\n", roff(version))
	b.WriteString(".SH NAME\npasstunnel \\- a TLS tunnel for cleartext daemons\n.SH SYNOPSIS\n.nf\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\\fBpasstunnel %s\\fR %s\n", roff(c.words), roff(c.synopsis))
	}
	b.WriteString(".fi\n")
	b.WriteString(`.SH DESCRIPTION
passtunnel carries a cleartext daemon's TCP traffic over mutually authenticated TLS.
A server tunnel takes TLS in and sends cleartext to its target;
a client tunnel takes cleartext in and sends TLS to its target.
Identity comes from certificate files, a cluster CA derived from a shared passphrase,
a self-signed certificate with pinning, ACME, or SPIFFE.
Tunnels are declared in an HCL file (run, check) or one at a time with flags (server, client).
A passphrase or shared secret is never a flag value: it would show in ps.
.SH COMMANDS
`)
	for _, c := range commands {
		fmt.Fprintf(&b, ".TP\n\\fBpasstunnel %s\\fR %s\n%s\n", roff(c.words), roff(c.synopsis), roff(c.summary))
		if c.words == "server" || c.words == "client" {
			b.WriteString("Its flags are under OPTIONS.\n")
			continue
		}
		writeManFlags(&b, flagsOf(splitWords(c.words)), true)
	}
	b.WriteString(".SH OPTIONS\nThe flags of \\fBserver\\fR and \\fBclient\\fR; each sets the HCL field of the same name " +
		"(a dash for each underscore). Every flag may be given with one dash or two.\n")
	writeManFlags(&b, tunnelFlags(), false)
	writeManTail(&b)
	return b.String()
}

// tunnelFlags are the flags of server and client together, each marked
// with the mode it belongs to when only one has it.
func tunnelFlags() []cliFlag {
	server, client := flagsOf([]string{"server"}), flagsOf([]string{"client"})
	inClient := map[string]bool{}
	for _, f := range client {
		inClient[f.name] = true
	}
	inServer := map[string]bool{}
	var all []cliFlag
	for _, f := range server {
		inServer[f.name] = true
		if !inClient[f.name] {
			f.usage += " (server only)"
		}
		all = append(all, f)
	}
	for _, f := range client {
		if !inServer[f.name] {
			f.usage += " (client only)"
			all = append(all, f)
		}
	}
	return all
}

// writeManFlags writes flags as a tagged list, indented under a command
// when nested.
func writeManFlags(b *strings.Builder, flags []cliFlag, nested bool) {
	if len(flags) == 0 {
		return
	}
	if nested {
		b.WriteString(".RS\n")
	}
	for _, f := range flags {
		fmt.Fprintf(b, ".TP\n\\fB\\-\\-%s\\fR", roff(f.name))
		if f.value != "" {
			fmt.Fprintf(b, " \\fI%s\\fR", roff(f.value))
		}
		fmt.Fprintf(b, "\n%s\n", roff(f.usage))
	}
	if nested {
		b.WriteString(".RE\n")
	}
}

func writeManTail(b *strings.Builder) {
	fmt.Fprintf(b, `.SH ENVIRONMENT
.TP
.B PASSTUNNEL_CONFIG
the config file of run, check and rules when none is named (else ./passtunnel.hcl)
.TP
.B GOGC
the garbage collector's target (Go's default, 100, unless it is set)
.SH FILES
.TP
.I ./passtunnel.hcl
the config file when none is named; relative paths in it are relative to its directory
.TP
.I %s
the state directory (--state-dir): self-signed certificates, ACME storage
.SH EXAMPLES
Check a config, loading every certificate and key it names:
.PP
.RS
.nf
passtunnel check /etc/passtunnel/passtunnel.hcl
.fi
.RE
.PP
Put TLS in front of a local Redis, with a cluster passphrase from a file:
.PP
.RS
.nf
passtunnel server \-\-listen :6380 \-\-target 127.0.0.1:6379 \e
    \-\-passphrase\-file /run/secrets/passtunnel
.fi
.RE
.PP
Install bash completion:
.PP
.RS
.nf
passtunnel completion bash > /etc/bash_completion.d/passtunnel
.fi
.RE
.SH SEE ALSO
.BR stunnel (8),
.BR openssl (1);
the README and docs/ of the passtunnel source, which document every HCL field.
`, roff(pki.DefaultStateDir))
}

// roff escapes text for roff: backslashes, dashes (which roff would
// typeset as hyphens), and a dot or quote that starts a line (a request).
func roff(s string) string {
	lines := strings.Split(strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
