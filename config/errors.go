package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Error is one problem in a config, tied to the place the user can fix it.
type Error struct {
	Pos    Pos
	Tunnel string // "" for top-level settings
	Field  string // dotted HCL path ("limits.idle_timeout"); "" when Msg names its subject
	Msg    string
	err    error // the cause, kept for errors.Is (for example fs.ErrNotExist)
}

// Error renders `FILE:LINE:COL: tunnel "NAME": FIELD: message`. A value from
// the command line reads `flag --NAME: message`: the flag already names the
// field, and there is only one tunnel.
func (e Error) Error() string {
	var b strings.Builder
	switch {
	case e.Pos.Flag != "":
		return e.Pos.String() + ": " + e.Msg
	case e.Pos.File != "" && e.Pos.Line == 0:
		b.WriteString(e.Pos.File + ": ")
	case e.Pos.File != "":
		b.WriteString(e.Pos.String() + ": ")
	}
	if e.Tunnel != "" {
		fmt.Fprintf(&b, "tunnel %q: ", e.Tunnel)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap gives the underlying cause, if any.
func (e Error) Unwrap() error { return e.err }

// Errors is every problem found in one config, sorted by position, so that a
// user fixes them all in one pass instead of one per run.
type Errors []Error

// Error joins the messages with newlines.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is and errors.As look at each Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders by file position; flag errors (no line) keep the order they
// were found in, which is deterministic.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return es
}

// redact removes secret values from every message. Secret fields are decoded
// so that no message can carry their value; this is the second line of
// defence. Very short values are skipped: replacing "a" everywhere would
// garble messages and hides nothing.
func (es Errors) redact(secrets []string) {
	for i := range es {
		for _, s := range secrets {
			if len(s) >= 4 {
				es[i].Msg = strings.ReplaceAll(es[i].Msg, s, "[redacted]")
			}
		}
	}
}

// orNil returns nil for an empty list so callers can write `if err != nil`.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}

// fromDiag converts an HCL diagnostic. Only Summary and Detail are used: HCL
// renders expression values only through its DiagnosticWriter, never here.
func fromDiag(d *hcl.Diagnostic, file, tunnel string) Error {
	e := Error{Pos: Pos{File: file}, Tunnel: tunnel, Msg: d.Summary}
	if d.Subject != nil {
		e.Pos = hclPos(d.Subject.Filename, d.Subject.Start)
	}
	if d.Detail != "" {
		e.Msg += ": " + d.Detail
	}
	return e
}

func hclPos(file string, p hcl.Pos) Pos {
	return Pos{File: file, Line: p.Line, Column: p.Column}
}
