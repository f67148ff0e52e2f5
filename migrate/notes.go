package migrate

import (
	"fmt"
	"strings"
)

// Note is one option that was not carried over, or carried with a
// difference worth knowing: where it came from, and what to do instead.
type Note struct {
	Where  string // "file:line" of a stunnel option, "--flag" of a ghostunnel one
	Scope  string // the stunnel service ("" for the global section or ghostunnel)
	Option string // the option or flag as written
	Text   string // why, and what to do instead; never a secret value
	// Security is set when what was dropped (or weakened) protects the
	// connection: peer verification, revocation, PSK, access control. An
	// import with one of these exits 1.
	Security bool
	line     int // sort key within one source file
}

func (n Note) String() string {
	var sb strings.Builder
	if n.Where != "" {
		sb.WriteString(n.Where + ": ")
	}
	if n.Scope != "" {
		sb.WriteString("[" + n.Scope + "] ")
	}
	if n.Security {
		sb.WriteString("SECURITY: ")
	}
	fmt.Fprintf(&sb, "%s: %s", n.Option, n.Text)
	return sb.String()
}

// Result is an import: the HCL, and the notes for stderr.
type Result struct {
	HCL   string
	Notes []Note
}

// SecurityDropped reports whether any note dropped or weakened something
// that protects the connection.
func (r Result) SecurityDropped() bool {
	for _, n := range r.Notes {
		if n.Security {
			return true
		}
	}
	return false
}

// Mentions reports whether a note names option (case-insensitive), for
// tests and callers that ask whether an option was reported.
func (r Result) Mentions(option string) bool {
	for _, n := range r.Notes {
		if strings.EqualFold(n.Option, option) {
			return true
		}
	}
	return false
}
