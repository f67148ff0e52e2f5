package migrate

import (
	"fmt"
	"os"
	"strings"
)

// ghostFlag is one flag of a ghostunnel command line.
type ghostFlag struct {
	Name  string // without dashes
	Value string // "true" for a bare boolean flag
}

// ghost is a ghostunnel command line being converted.
type ghost struct {
	mode  string // "server" or "client"
	flags []ghostFlag
	seen  map[string]bool
	top   *block // top-level fields (admin)
	tun   *block
	tls   *block
	notes []Note
}

// ImportGhostunnel converts a ghostunnel command line (its arguments,
// with or without the leading "ghostunnel") to HCL.
func ImportGhostunnel(args []string) (Result, error) {
	g, err := parseGhost(args)
	if err != nil {
		return Result{}, err
	}
	g.top = newBlock("", "")
	g.tun = newBlock("tunnel", g.mode)
	g.tun.set("mode", quote(g.mode))
	g.tls = g.tun.child("tls")
	for _, f := range g.flags {
		h, ok := ghostFlags[f.Name]
		switch {
		case !ok:
			g.note(f, true, "unknown flag, not carried: check by hand whether it protected anything")
		case h.only != "" && h.only != g.mode:
			g.note(f, false, "a %s flag, ignored in %s mode", h.only, g.mode)
		case h.apply != nil:
			h.apply(g, f)
		default:
			g.note(f, h.security, "not carried: %s", h.text)
		}
	}
	g.finish()
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Imported by `passtunnel import ghostunnel` from: ghostunnel %s\n", oneLine(g.commandLine()))
	sb.WriteString("# Check it with `passtunnel check -config FILE`; what was not carried over is listed on stderr.\n")
	writeTop(&sb, g.top)
	sb.WriteString("\n")
	g.tun.write(&sb, 0)
	return Result{HCL: sb.String(), Notes: g.notes}, nil
}

// parseGhost splits the arguments into the subcommand and flags. Which
// flags take a value comes from ghostFlags; an unknown one takes the next
// argument unless that is a flag too.
func parseGhost(args []string) (*ghost, error) {
	g := &ghost{seen: map[string]bool{}}
	if len(args) > 0 && (args[0] == "ghostunnel" || strings.HasSuffix(args[0], "/ghostunnel")) {
		args = args[1:]
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if (a == "server" || a == "client") && g.mode == "" {
				g.mode = a
				continue
			}
			return nil, fmt.Errorf("ghostunnel: unexpected argument %q (want server or client, then flags)", a)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue {
			h, known := ghostFlags[name]
			switch {
			case known && h.boolean, !known && (i+1 == len(args) || strings.HasPrefix(args[i+1], "-")):
				value = "true"
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				return nil, fmt.Errorf("ghostunnel: flag --%s needs a value", name)
			}
		}
		g.flags = append(g.flags, ghostFlag{Name: name, Value: value})
	}
	if g.mode == "" {
		return nil, fmt.Errorf("ghostunnel: no subcommand: want server or client")
	}
	return g, nil
}

// commandLine repeats the command for the header, secret values hidden.
func (g *ghost) commandLine() string {
	parts := []string{g.mode}
	for _, f := range g.flags {
		v := f.Value
		if h, ok := ghostFlags[f.Name]; ok && h.secret || !ok {
			v = "..."
		}
		if ok := ghostFlags[f.Name].boolean; ok && v == "true" {
			parts = append(parts, "--"+f.Name)
			continue
		}
		parts = append(parts, "--"+f.Name+"="+v)
	}
	return strings.Join(parts, " ")
}

func (g *ghost) note(f ghostFlag, security bool, format string, args ...any) {
	g.notes = append(g.notes, Note{Option: "--" + f.Name,
		Text: fmt.Sprintf(format, args...), Security: security})
}

func (g *ghost) isTrue(f ghostFlag) bool { return yes(f.Value) }

// keystore: a PKCS#12 file, or a PEM bundle of certificate and key.
func (g *ghost) keystore(f ghostFlag) {
	if data, err := os.ReadFile(f.Value); err == nil && strings.Contains(string(data), "-----BEGIN") {
		g.tls.set("cert", quote(f.Value)) // the key sits in the same file
		return
	}
	lower := strings.ToLower(f.Value)
	if !strings.HasSuffix(lower, ".p12") && !strings.HasSuffix(lower, ".pfx") {
		g.note(f, false, "not readable here and not named .p12/.pfx: taken as PKCS#12; "+
			"if it is a PEM bundle, replace tls.pkcs12 with tls.cert = %q", f.Value)
	}
	g.tls.set("pkcs12", quote(f.Value))
}

// finish applies what depends on several flags: the default trust of
// each mode, and client_auth.
func (g *ghost) finish() {
	if g.mode == "client" {
		if g.tls.get("ca") == "" && g.tls.get("insecure_skip_verify") == "" {
			g.tls.set("system_roots", "true")
			g.notes = append(g.notes, Note{Option: "--cacert", Text: "not given: ghostunnel trusted the system store; carried as system_roots = true"})
		}
		return
	}
	if g.tls.get("client_auth") == "" {
		if g.tls.get("ca") == "" && !g.tun.has("spiffe") {
			g.notes = append(g.notes, Note{Option: "--cacert", Security: true, Text: "not given: ghostunnel verified " +
				"clients against the system store, which a server tunnel does not use; set tls.ca to the clients' CA"})
		}
		if !g.seen["allow-all"] && !g.tun.has("allow") {
			g.notes = append(g.notes, Note{Option: "--allow-*", Security: true, Text: "no --allow-* flag: ghostunnel " +
				"refuses to start; the tunnel admits every client the CA verifies. Narrow it with allow { cn, dns, uri, ou }"})
		}
	}
}
