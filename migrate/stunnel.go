package migrate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// svc is one stunnel service being converted: its effective options
// (the global section's service-level options, overridden by its own) and
// the tunnel block they become.
type svc struct {
	name    string
	sec     *section
	opts    map[string][]option // by lower-case name
	list    []option            // the same, in source order
	done    map[string]bool     // options carried or reported
	client  bool
	tun     *block
	tls     *block
	notes   []Note
	sniFrom string // server-side `sni = service:pattern`: the service it rides on
}

// ImportStunnel converts the stunnel configuration at path (with its
// includes) to HCL.
func ImportStunnel(path string) (Result, error) {
	secs, err := parseStunnel(path)
	if err != nil {
		return Result{}, err
	}
	top := newBlock("", "")
	var notes []Note
	globalServiceOpts := globals(secs[0], top, &notes)
	services := secs[1:]
	if len(services) == 0 && hasOption(secs[0], "accept") {
		// No [service]: stunnel runs the global section as the one service.
		services = []*section{{Name: "stunnel", File: secs[0].File, Line: secs[0].Line}}
	}
	if len(services) == 0 {
		return Result{}, fmt.Errorf("%s: no service section ([name] with accept and connect)", path)
	}
	var svcs []*svc
	names := map[string]bool{}
	for _, sec := range services {
		s := newSvc(sec, globalServiceOpts, names)
		s.convert()
		svcs = append(svcs, s)
	}
	linkSNI(svcs)
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Imported by `passtunnel import stunnel` from %s.\n", oneLine(path))
	sb.WriteString("# Check it with `passtunnel check -config FILE`; what was not carried over is listed on stderr.\n")
	writeTop(&sb, top)
	for _, s := range svcs {
		sb.WriteString("\n")
		s.tun.write(&sb, 0)
		slices.SortStableFunc(s.notes, func(a, b Note) int { return a.line - b.line })
		notes = append(notes, s.notes...)
	}
	return Result{HCL: sb.String(), Notes: notes}, nil
}

func hasOption(sec *section, name string) bool {
	for _, o := range sec.Options {
		if o.name() == name {
			return true
		}
	}
	return false
}

// writeTop prints the top-level attributes (log_level).
func writeTop(sb *strings.Builder, top *block) {
	if len(top.attrs) == 0 {
		return
	}
	sb.WriteString("\n")
	for _, k := range sortedKeys(top.attrs) {
		fmt.Fprintf(sb, "%s = %s\n", k, top.attrs[k])
	}
}

var badNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// tunnelName makes a stunnel service name a valid, unique tunnel name.
func tunnelName(name string, taken map[string]bool) string {
	n := strings.Trim(badNameChars.ReplaceAllString(name, "-"), "-._")
	if n == "" {
		n = "service"
	}
	base := n
	for i := 2; taken[n]; i++ {
		n = fmt.Sprintf("%s-%d", base, i)
	}
	taken[n] = true
	return n
}

func newSvc(sec *section, global []option, taken map[string]bool) *svc {
	s := &svc{name: sec.Name, sec: sec, opts: map[string][]option{}, done: map[string]bool{}}
	own := map[string]bool{}
	for _, o := range sec.Options {
		own[o.name()] = true
	}
	for _, o := range global {
		if !own[o.name()] {
			s.list = append(s.list, o)
		}
	}
	s.list = append(s.list, sec.Options...)
	for _, o := range s.list {
		s.opts[o.name()] = append(s.opts[o.name()], o)
	}
	name := tunnelName(sec.Name, taken)
	s.tun = newBlock("tunnel", name)
	s.tls = s.tun.child("tls")
	if name != sec.Name {
		s.noteAt(sec.File, sec.Line, "["+sec.Name+"]", false,
			"the tunnel is named %q: tunnel names are letters, digits, '.', '_' and '-', and unique", name)
	}
	return s
}

// one returns the last value of an option (stunnel keeps the last).
func (s *svc) one(name string) (option, bool) {
	s.done[name] = true
	all := s.opts[name]
	if len(all) == 0 {
		return option{}, false
	}
	return all[len(all)-1], true
}

// all returns every value of a multi-valued option (connect, checkHost).
func (s *svc) all(name string) []option {
	s.done[name] = true
	return s.opts[name]
}

func (s *svc) note(o option, security bool, format string, args ...any) {
	s.noteAt(o.File, o.Line, o.Key, security, format, args...)
}

func (s *svc) noteAt(file string, line int, opt string, security bool, format string, args ...any) {
	s.notes = append(s.notes, Note{
		Where: fmt.Sprintf("%s:%d", file, line), Scope: s.name, Option: opt,
		Text: fmt.Sprintf(format, args...), Security: security, line: line,
	})
}

// convert maps the service's options, in groups, then reports whatever
// no group took.
func (s *svc) convert() {
	s.mode()
	s.endpoints()
	s.protocol()
	s.identity()
	s.verification()
	s.tlsSettings()
	s.limits()
	s.misc()
	s.leftovers()
}

func (s *svc) mode() {
	if o, ok := s.one("client"); ok {
		s.client = yes(o.Value)
	}
	s.tun.set("mode", quote(map[bool]string{true: "client", false: "server"}[s.client]))
}

func yes(v string) bool {
	return strings.EqualFold(v, "yes") || v == "1" || strings.EqualFold(v, "true")
}

// leftovers reports every option no group took, by the table of
// reported options or as unknown.
func (s *svc) leftovers() {
	for _, o := range s.list {
		if !s.done[o.name()] {
			s.leftover(o)
		}
	}
}

func (s *svc) leftover(o option) {
	if r, ok := stunnelReported[o.name()]; ok {
		s.note(o, r.security, "not carried: %s", r.text)
		return
	}
	if r, ok := stunnelGlobalOnly[o.name()]; ok {
		s.note(o, false, "a global option in a service section: %s", r)
		return
	}
	s.note(o, true, "unknown option, not carried: check by hand whether it protected anything")
}

// oneLine keeps a value inside a comment line: control characters (a
// newline would end the comment and start HCL) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
