package config

import (
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// fieldKey names one field of one tunnel (tunnel -1: top level).
type fieldKey struct {
	tunnel int
	field  string
}

// decoder carries what every field decode needs and collects the problems.
type decoder struct {
	file    string
	files   fileReader
	env     *Environ
	ctx     *hcl.EvalContext
	errs    Errors
	failed  map[fieldKey]bool // fields that did not decode; later checks skip them
	secrets []string          // values read into secrets, scrubbed from messages
}

// scope decodes the attributes of one block; prefix turns "cert" into "tls.cert".
type scope struct {
	d      *decoder
	tunnel int
	name   string
	prefix string
	attrs  hcl.Attributes
	fields map[string]Pos
}

// value evaluates an attribute and records where it was set. ok is false when
// the attribute is absent, null, or failed to evaluate (already reported).
func (s *scope) value(name string) (cty.Value, *hcl.Attribute, bool) {
	a, found := s.attrs[name]
	if !found {
		return cty.NilVal, nil, false
	}
	s.fields[s.prefix+name] = hclPos(s.d.file, a.Range.Start)
	v, diags := a.Expr.Value(s.d.ctx)
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			s.d.errs = append(s.d.errs, fromDiag(d, s.d.file, s.name))
		}
	}
	if diags.HasErrors() {
		s.d.failed[fieldKey{s.tunnel, s.prefix + name}] = true
		return cty.NilVal, a, false
	}
	if v.IsNull() {
		delete(s.fields, s.prefix+name)
		return cty.NilVal, a, false
	}
	return v, a, true
}

// fail reports a problem with one attribute.
func (s *scope) fail(name string, a *hcl.Attribute, format string, args ...any) {
	s.failAt(name, a.Range.Start, format, args...)
}

// failAt reports a problem with one attribute at a place inside it (an
// element of a list).
func (s *scope) failAt(name string, at hcl.Pos, format string, args ...any) {
	s.d.failed[fieldKey{s.tunnel, s.prefix + name}] = true
	// An error among args is the cause: errors.Is still sees it (a file()
	// that could not be read for want of permission, say).
	var cause error
	for _, a := range args {
		if err, ok := a.(error); ok {
			cause = err
		}
	}
	s.d.errs = append(s.d.errs, Error{
		Pos: hclPos(s.d.file, at), Tunnel: s.name,
		Field: s.prefix + name, Msg: fmt.Sprintf(format, args...), err: cause,
	})
}

// typed converts an attribute to want, reporting msg when it cannot.
func (s *scope) typed(name string, want cty.Type, msg string) (cty.Value, bool) {
	v, a, ok := s.value(name)
	if !ok {
		return v, false
	}
	v, err := convert.Convert(v, want)
	if err != nil || !v.IsWhollyKnown() || v.IsNull() {
		s.fail(name, a, "%s", msg)
		return v, false
	}
	return v, true
}

func (s *scope) str(name string, dst *string) {
	if v, ok := s.typed(name, cty.String, "must be a string"); ok {
		*dst = v.AsString()
	}
}

func (s *scope) boolean(name string, dst *bool) {
	if v, ok := s.typed(name, cty.Bool, "must be true or false"); ok {
		*dst = v.True()
	}
}

func (s *scope) list(name string, dst *[]string) {
	v, ok := s.typed(name, cty.List(cty.String), "must be a list of strings")
	if !ok {
		return
	}
	out := []string{}
	for _, e := range v.AsValueSlice() {
		if e.IsNull() {
			s.fail(name, s.attrs[name], "must be a list of strings")
			return
		}
		out = append(out, e.AsString())
	}
	*dst = out
}

func (s *scope) integer(name string, dst *int) {
	v, ok := s.typed(name, cty.Number, "must be a whole number")
	if !ok {
		return
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	switch {
	case !bf.IsInt():
		s.fail(name, s.attrs[name], "must be a whole number")
		return
	case acc != 0 || n > math.MaxInt32 || n < math.MinInt32:
		s.fail(name, s.attrs[name], "is out of range")
		return
	}
	*dst = int(n)
}

func (s *scope) number(name string, dst *float64) {
	v, ok := s.typed(name, cty.Number, "must be a number")
	if !ok {
		return
	}
	f, _ := v.AsBigFloat().Float64()
	if math.IsInf(f, 0) {
		s.fail(name, s.attrs[name], "must be a finite number")
		return
	}
	*dst = f
}

// text reads a string attribute that still needs parsing; ok only when it
// was given as a string.
func (s *scope) text(name string) (string, *hcl.Attribute, bool) {
	v, ok := s.typed(name, cty.String, "must be a string")
	if !ok {
		return "", nil, false
	}
	return v.AsString(), s.attrs[name], true
}

// parsed reads a string attribute and turns it into a T with parse. It is a
// function, not a method, because Go methods cannot take type parameters;
// durations and addresses differ only in the parser.
func parsed[T any](s *scope, name string, dst *T, parse func(string) (T, error)) {
	text, a, ok := s.text(name)
	if !ok {
		return
	}
	v, err := parse(text)
	if err != nil {
		s.fail(name, a, "%v", err)
		return
	}
	*dst = v
}

func (s *scope) duration(name string, dst *time.Duration) { parsed(s, name, dst, parseDuration) }

func (s *scope) address(name string, dst *Address) { parsed(s, name, dst, ParseAddress) }

// secret decodes a secret field without letting HCL evaluate its value.
func (s *scope) secret(name string, dst *Secret) {
	a, found := s.attrs[name]
	if !found {
		return
	}
	s.fields[s.prefix+name] = hclPos(s.d.file, a.Range.Start)
	v, err := secretExpr(a.Expr, s.d.files.secret, s.d.env.secret)
	if err != nil {
		s.fail(name, a, "%v", err)
		return
	}
	s.d.secrets = append(s.d.secrets, v.Reveal())
	*dst = v
}

// secretList decodes a list of secrets: a list literal whose every element
// has the shape of a secret.
func (s *scope) secretList(name string, dst *[]Secret) {
	a, found := s.attrs[name]
	if !found {
		return
	}
	s.fields[s.prefix+name] = hclPos(s.d.file, a.Range.Start)
	tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		s.fail(name, a, "must be a list of strings, env(\"NAME\") or file(\"PATH\") calls")
		return
	}
	out := []Secret{}
	for _, e := range tuple.Exprs {
		v, err := secretExpr(e, s.d.files.secret, s.d.env.secret)
		if err != nil {
			s.fail(name, a, "element %d: %v", len(out)+1, err)
			return
		}
		s.d.secrets = append(s.d.secrets, v.Reveal())
		out = append(out, v)
	}
	*dst = out
}
