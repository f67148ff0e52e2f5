package config

import (
	"fmt"
	"reflect"
	"strings"
)

// field is one setting of a block, written once: its HCL name, where it
// sits in the block's Go struct, its default, its flag of `passtunnel
// server|client`, a simple check of its value, and its rows in the README's
// reference tables. Schema, decoding, defaults, flags, the flag<->field map
// and the reference tables are all read from these entries.
type field[B any] struct {
	name string // HCL name inside its block: "handshake_timeout"
	// at points at the setting in the block's struct. The pointer's type
	// says how the setting decodes and parses (see decodeValue, parseFlag):
	// *string, *bool, *negBool, *[]string, *int, *float64, *time.Duration,
	// *fs.FileMode, *Address, **Address, *Secret or *[]Secret.
	at func(*B) any
	// def is the default, of the setting's type; nil for the zero value,
	// byMode when it depends on the tunnel's mode.
	def any
	// flag is the flag as the README shows it: "--handshake-timeout D";
	// "" for none. Alternatives that set the same field are separated by
	// " / "; only secrets have them, and flags.go registers those itself
	// (a secret is read from a file or a variable, never from argv).
	flag  string
	usage string // the flag's help; a `WORD` in it names the value in -h
	comma bool   // a list flag whose value may hold several entries, comma-separated
	// path marks a file path (*string or *[]string): given in a config
	// file, a relative one resolves against the file's directory, as
	// file() does; given as a flag, it stays relative to the working
	// directory. Unix socket addresses resolve the same way without it.
	path bool
	// check returns what is wrong with the value p points at, or "". It
	// runs on every tunnel's value, given or defaulted.
	check func(p any) string
	// doc is the setting's row in the README's HCL reference; flagDoc
	// names its flag's row when the flag's spelling will not do, or puts
	// the flag in the row above (its meaning and default are the HCL
	// row's: see flagReference).
	doc, flagDoc row
}

// row is one row of a reference table: name | default | meaning.
type row struct {
	name string // the first cell, when it is not just the field or the flag
	def  string // the default cell, when the default's own text will not do
	text string
	// above marks a setting that a combined row of another entry names
	// ("`tls.cert`, `tls.key`"): it gets no row of its own.
	above bool
}

// inRowAbove is the doc of a setting named by another entry's combined row.
var inRowAbove = row{above: true}

// negBool is a bool stored negated in the struct, so that the struct's zero
// value means the setting's default true (TLS.SessionResumptionDisabled).
type negBool bool

// byMode is a default that depends on the tunnel's mode; a mode it lacks
// gets the zero value.
type byMode map[Mode]any

// block is the table of one HCL block (or of the attributes of the top level
// or of a tunnel, name "").
type block[B any] struct {
	name   string
	fields []field[B]
	// doc and flagDoc are rows for the block itself, before its fields'
	// (`tunnel "NAME"` and its --name, `acme { }`); zero for none.
	doc, flagDoc row
	// in finds the block's struct in a tunnel, or ptr the pointer to it for
	// a block that may be absent (tls, acme: nil until given). Neither is
	// set for the top level, which is not in a tunnel.
	in  func(t *Tunnel) *B
	ptr func(t *Tunnel) **B
	// pos, when set, is where the struct keeps the block's position.
	pos func(*B) *Pos
}

// of is the block's struct in t. An absent pointer block is nil, or with
// create made with its defaults for t's mode.
func (b *block[B]) of(t *Tunnel, create bool) *B {
	if b.ptr == nil {
		return b.in(t)
	}
	p := b.ptr(t)
	if *p == nil && create {
		*p = new(B)
		b.defaults(*p, t.Mode)
	}
	return *p
}

// prefix is what turns a field's name into its path: "tls." for tls.cert.
func (b *block[B]) prefix() string {
	if b.name == "" {
		return ""
	}
	return b.name + "."
}

// defaults sets every field of dst to its default for mode.
func (b *block[B]) defaults(dst *B, mode Mode) {
	for _, f := range b.fields {
		def := f.def
		if m, ok := def.(byMode); ok {
			def = m[mode]
		}
		if def == nil {
			continue
		}
		p := reflect.ValueOf(f.at(dst)).Elem()
		if reflect.TypeOf(def) != p.Type() {
			panic(fmt.Sprintf("config: %s%s: default is a %T, the field a %s", b.prefix(), f.name, def, p.Type()))
		}
		p.Set(reflect.ValueOf(def))
	}
}

// setting is one field of any block, with a pointer to its default value:
// what the flag registry and the reference tables need, whatever B is.
type setting struct {
	path, flag, usage string
	comma             bool
	doc, flagDoc      row
	def               any // points at the default, like field.at
}

// flags lists the flag names of the setting, the first being the one named
// when the field is missing.
func (s setting) flags() []string { return flagNames(s.flag) }

// flagNames are the names of the flags in a field's flag ("--cert FILE").
func flagNames(flag string) []string {
	var out []string
	for _, alt := range strings.Split(flag, " / ") {
		if name, _, _ := strings.Cut(strings.TrimPrefix(alt, "--"), " "); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// blockSpec is a block's table whatever its struct type, for the code that
// walks every block.
type blockSpec interface {
	blockName() string
	blockRows() (doc, flagDoc row)
	settings(mode Mode) []setting
}

func (b *block[B]) blockName() string             { return b.name }
func (b *block[B]) blockRows() (doc, flagDoc row) { return b.doc, b.flagDoc }

func (b *block[B]) settings(mode Mode) []setting {
	def := new(B)
	b.defaults(def, mode)
	out := make([]setting, len(b.fields))
	for i, f := range b.fields {
		out[i] = setting{path: b.prefix() + f.name, flag: f.flag, usage: f.usage, comma: f.comma,
			doc: f.doc, flagDoc: f.flagDoc, def: f.at(def)}
	}
	return out
}

// tunnelBlock is a block inside a tunnel: its struct is reached from a
// Tunnel.
type tunnelBlock interface {
	blockSpec
	names() []string
	defaultsIn(t *Tunnel)
	decode(s *blockDecoder, t *Tunnel)
	fromFlags(b *flagBuilder, t *Tunnel)
	check(v *validator, ti int)
}

// blocks is every table in the order of the README's reference tables;
// nested are the blocks a tunnel holds, in the same order.
var (
	nested = []tunnelBlock{&tlsFields, &allowFields, &denyFields, &acmeFields, &spiffeFields, &limitsFields, &proxyProtocolFields}
	blocks = append([]blockSpec{&topFields, &tunnelFields}, asSpecs(nested)...)
)

func asSpecs(bs []tunnelBlock) []blockSpec {
	out := make([]blockSpec, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}

func (b *block[B]) names() []string {
	out := make([]string, len(b.fields))
	for i, f := range b.fields {
		out[i] = f.name
	}
	return out
}

// check runs the fields' checks on the tunnel's block.
func (b *block[B]) check(v *validator, ti int) {
	if dst := b.of(&v.c.Tunnels[ti], false); dst != nil {
		b.checkIn(v, ti, dst)
	}
}

// checkIn runs the fields' checks on dst, the block of tunnel ti (-1: the
// top level), skipping fields already reported.
func (b *block[B]) checkIn(v *validator, ti int, dst *B) {
	for _, f := range b.fields {
		path := b.prefix() + f.name
		if f.check == nil || !v.ok(ti, path) {
			continue
		}
		if msg := f.check(f.at(dst)); msg != "" {
			v.fail(ti, path, "%s", msg)
		}
	}
}

// flagIndex maps flags to fields and back, built once from the tables.
var flagIndex = func() (idx struct{ field, flag map[string]string }) {
	idx.field, idx.flag = map[string]string{}, map[string]string{}
	for _, b := range blocks {
		for _, s := range b.settings(ModeServer) {
			for i, name := range s.flags() {
				if _, dup := idx.field[name]; dup {
					panic(fmt.Sprintf("config: flag --%s is in two table entries", name))
				}
				idx.field[name] = s.path
				if i == 0 {
					idx.flag[s.path] = name
				}
			}
		}
	}
	return idx
}()

// flagFor names the flag that sets an HCL field. Fields without a flag
// (the tunnel name, mode) get a name built the same way.
func flagFor(field string) string {
	if f, ok := flagIndex.flag[field]; ok {
		return f
	}
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	return strings.ReplaceAll(field, "_", "-")
}

// fieldFor names the HCL field a flag sets ("" for --name, which sets none).
func fieldFor(flag string) string { return flagIndex.field[flag] }

// topLevel reports whether a field sits outside tunnel blocks.
func topLevel(field string) bool {
	for _, f := range topFields.fields {
		if f.name == field {
			return true
		}
	}
	return false
}
