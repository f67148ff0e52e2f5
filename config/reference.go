package config

import (
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// The README's reference tables are generated from the block tables (see
// TestReference, which keeps the README equal to them): a field's rows are
// written in its entry, nowhere else.

// otherFlagRows are rows of the flag table for flags that set no field of a
// tunnel, by the flag whose row they follow: --state-dir is a flag of every
// command that runs tunnels, registered by package main.
var otherFlagRows = map[string][]row{
	"self-signed": {{name: "`--state-dir DIR`", def: "`/var/lib/passtunnel`", text: "where self-signed certificates are kept; " +
		"falls back to `$XDG_STATE_HOME/passtunnel` or `~/.local/state/passtunnel` when not writable " +
		"(also a flag of `run` and `check`)"},
		{name: "`--no-sandbox`", text: "no [sandbox](docs/behaviour.md#sandbox) (`run` too)"}},
}

// flagReference is the README's table of the flags of `passtunnel
// server|client`, in markdown: each flag and the field it sets, whose row
// in the HCL table says what it means (a flag's meaning is written once).
// The top level's flags (log, admin) come last: a reader of that table
// looks for --listen and --target first.
func flagReference() string {
	var out strings.Builder
	out.WriteString("| flag | sets |\n|---|---|\n")
	for _, b := range append(blocks[1:len(blocks):len(blocks)], blocks[0]) {
		if _, head := b.blockRows(); head != (row{}) {
			writeRow(&out, head.name, withDefault(head.text, head.def))
		}
		settings := b.settings(ModeServer)
		for i, s := range settings {
			if s.flag == "" || s.flagDoc.above {
				continue
			}
			name := s.flagDoc.name
			if name == "" {
				name = "`" + strings.ReplaceAll(s.flag, " / ", "` / `") + "`"
			}
			writeRow(&out, name, flagSets(settings[i:]))
			for _, r := range otherFlagRows[s.flags()[0]] {
				writeRow(&out, r.name, withDefault(r.text, r.def))
			}
		}
	}
	return out.String()
}

// withDefault is a flag row's text with the default of a flag that sets no
// field (a field's default is in the HCL table).
func withDefault(text, def string) string {
	if def == "" {
		return text
	}
	return text + " (default " + def + ")"
}

// flagSets is the "sets" cell of the flag of settings[0]: its field, and
// those of the settings after it that its row names too. A secret is taken
// by reference only.
func flagSets(settings []setting) string {
	paths := []string{"`" + settings[0].path + "`"}
	for _, s := range settings[1:] {
		if !s.flagDoc.above {
			break
		}
		paths = append(paths, "`"+s.path+"`")
	}
	cell := strings.Join(paths, ", ")
	switch settings[0].def.(type) {
	case *Secret, *[]Secret:
		cell += ", by reference: a file or a variable, never the value"
	}
	return cell
}

// hclReference is the README's table of the fields of a config file, in
// markdown.
func hclReference() string {
	var out strings.Builder
	out.WriteString("| field | default | meaning |\n|---|---|---|\n")
	for _, b := range blocks {
		if head, _ := b.blockRows(); head != (row{}) {
			writeRow(&out, head.name, head.def, head.text)
		}
		for _, s := range b.settings(ModeServer) {
			if s.doc.above {
				continue
			}
			writeRow(&out, orElse(s.doc.name, "`"+s.path+"`"), orElse(s.doc.def, hclDefault(s.def)), s.doc.text)
		}
	}
	return out.String()
}

// writeRow writes one markdown row; an empty cell is a single space.
func writeRow(out *strings.Builder, cells ...string) {
	out.WriteString("|")
	for _, c := range cells {
		if c != "" {
			out.WriteString(" " + c)
		}
		out.WriteString(" |")
	}
	out.WriteString("\n")
}

func orElse(s, fallback string) string {
	if s != "" {
		return s
	}
	return fallback
}

// hclDefault shows the default p points at as it is written in HCL.
func hclDefault(p any) string {
	switch p := p.(type) {
	case *string:
		if *p == "" {
			return ""
		}
		return fmt.Sprintf("`%q`", *p)
	case *time.Duration:
		return fmt.Sprintf("`%q`", shortDuration(*p))
	case *fs.FileMode:
		return fmt.Sprintf("`\"%04o\"`", *p)
	case *bool:
		return fmt.Sprintf("`%t`", *p)
	case *negBool:
		return fmt.Sprintf("`%t`", !bool(*p))
	case *[]string, *[]Secret:
		return "`[]`"
	}
	return flagDefault(p)
}

// flagDefault shows the default p points at as it is written on the
// command line ("" for none).
func flagDefault(p any) string {
	switch p := p.(type) {
	case *string:
		if *p == "" {
			return ""
		}
		return "`" + *p + "`"
	case *time.Duration:
		return "`" + shortDuration(*p) + "`"
	case *fs.FileMode:
		return fmt.Sprintf("`%04o`", *p)
	case *bool:
		return onOff(*p)
	case *negBool:
		return onOff(!bool(*p))
	case *int:
		return fmt.Sprintf("`%d`", *p)
	case *float64:
		return fmt.Sprintf("`%g`", *p)
	}
	return "" // lists, addresses, secrets, the mode: no default to show
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// shortDuration is d as a person writes it: "2h", not "2h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
