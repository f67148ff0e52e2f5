package config

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// The schemas are the tables' names: a field decodes because it is in its
// block's table, so no name can be accepted and then dropped.
var (
	topSchema = &hcl.BodySchema{
		Attributes: attrs(topFields.names()),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "tunnel", LabelNames: []string{"name"}}},
	}
	tunnelSchema = func() *hcl.BodySchema {
		s := &hcl.BodySchema{Attributes: attrs(tunnelFields.names())}
		for _, b := range nested {
			s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: b.blockName()})
		}
		return s
	}()
	// blockSchemas holds the schema of each block a tunnel may hold, by type.
	blockSchemas = func() map[string]*hcl.BodySchema {
		out := map[string]*hcl.BodySchema{}
		for _, b := range nested {
			out[b.blockName()] = &hcl.BodySchema{Attributes: attrs(b.names())}
		}
		return out
	}()
)

func attrs(names []string) []hcl.AttributeSchema {
	out := make([]hcl.AttributeSchema, len(names))
	for i, n := range names {
		out[i] = hcl.AttributeSchema{Name: n}
	}
	return out
}

// newTunnel is a tunnel with every default filled in.
func newTunnel(name string, mode Mode) Tunnel {
	t := Tunnel{Name: name, Mode: mode, Fields: map[string]Pos{}}
	tunnelFields.defaults(&t, mode)
	for _, b := range nested {
		b.defaultsIn(&t)
	}
	return t
}

// DefaultTLS is the tls block of a tunnel of this mode with every field left
// out; consumers use it when Tunnel.TLS is nil.
func DefaultTLS(mode Mode) *TLS {
	t := &TLS{}
	tlsFields.defaults(t, mode)
	return t
}

// DefaultLimits are the values used for every field the user leaves out.
func DefaultLimits() Limits {
	var l Limits
	limitsFields.defaults(&l, "")
	return l
}

func (d *decoder) tunnel(idx int, b *hcl.Block) Tunnel {
	t := newTunnel(b.Labels[0], "")
	t.Pos = hclPos(d.file, b.DefRange.Start)
	content, diags := b.Body.Content(tunnelSchema)
	d.diags(diags, t.Name)
	s := &scope{d: d, tunnel: idx, name: t.Name, attrs: content.Attributes, fields: t.Fields}
	decodeFields(s, &tunnelFields, &t)
	blocks := d.uniqueBlocks(content.Blocks, t.Name)
	for _, nb := range nested {
		if bl := blocks[nb.blockName()]; bl != nil {
			nb.decode(d.blockScope(s, bl, blockSchemas[bl.Type]), &t)
		}
	}
	return t
}

// decodeFields decodes every field of b's table found in s into dst.
func decodeFields[B any](s *scope, b *block[B], dst *B) {
	for _, f := range b.fields {
		p := f.at(dst)
		s.decodeValue(f.name, p)
		if _, given := s.fields[s.prefix+f.name]; given {
			resolvePaths(s.d.files.dir, p, f.path)
		}
	}
}

// resolvePaths makes the relative paths in what p points at relative to
// dir, the config file's directory, so that a config means the same files
// whatever the working directory of the process that reads it: file paths
// when isPath, and the path of every unix socket address.
func resolvePaths(dir string, p any, isPath bool) {
	unix := func(a *Address) {
		if a != nil && a.Network == NetUnix {
			a.Addr = resolvePath(dir, a.Addr)
		}
	}
	switch p := p.(type) {
	case *string:
		if isPath && *p != "" {
			*p = resolvePath(dir, *p)
		}
	case *[]string:
		for i := range *p {
			if isPath && (*p)[i] != "" {
				(*p)[i] = resolvePath(dir, (*p)[i])
			}
		}
	case *Address:
		unix(p)
	case **Address:
		unix(*p)
	case *[]Address:
		for i := range *p {
			unix(&(*p)[i])
		}
	}
}

// decode decodes the block's body into t, making the block (with its
// defaults for t's mode) when it is a pointer.
func (b *block[B]) decode(s *blockDecoder, t *Tunnel) {
	dst := b.of(t, true)
	decodeFields(&s.scope, b, dst)
	if b.pos != nil {
		*b.pos(dst) = s.pos
	}
}

// defaultsIn fills the block's defaults into t, unless it is a block that is
// absent until given.
func (b *block[B]) defaultsIn(t *Tunnel) {
	if b.ptr == nil {
		b.defaults(b.in(t), t.Mode)
	}
}

// decodeValue decodes attribute name into what p points at; p's type says how.
func (s *scope) decodeValue(name string, p any) {
	switch p := p.(type) {
	case *string:
		s.str(name, p)
	case *Mode:
		s.str(name, (*string)(p))
	case *bool:
		s.boolean(name, p)
	case *negBool:
		v := !bool(*p)
		s.boolean(name, &v)
		*p = negBool(!v)
	case *[]string:
		s.list(name, p)
	case *int:
		s.integer(name, p)
	case *float64:
		s.number(name, p)
	case *time.Duration:
		s.duration(name, p)
	case *fs.FileMode:
		parsed(s, name, p, ParseListenMode)
	case *Address: // a tunnel's listen, the only field of this type
		parsed(s, name, p, ParseListenAddress)
	case *[]Address:
		s.addresses(name, p)
	case **Address:
		var a Address
		if s.address(name, &a); a.Network != "" {
			*p = &a
		}
	case *Secret:
		s.secret(name, p)
	case *[]Secret:
		s.secretList(name, p)
	case *PortMap:
		s.portMap(name, p)
	default:
		panic(fmt.Sprintf("config: field %s%s: no decoding for %T", s.prefix, name, p))
	}
}

// uniqueBlocks indexes blocks by type and refuses a second block of a type.
func (d *decoder) uniqueBlocks(blocks hcl.Blocks, tunnel string) map[string]*hcl.Block {
	out := map[string]*hcl.Block{}
	for _, b := range blocks {
		if first, dup := out[b.Type]; dup {
			d.errs = append(d.errs, Error{Pos: hclPos(d.file, b.DefRange.Start), Tunnel: tunnel,
				Field: b.Type, Msg: fmt.Sprintf("duplicate block; the first is at %s",
					hclPos(d.file, first.DefRange.Start))})
			continue
		}
		out[b.Type] = b
	}
	return out
}

// blockScope decodes the body of a nested block, recording the block itself
// in Fields so that checks about the block as a whole can point at it.
func (d *decoder) blockScope(parent *scope, b *hcl.Block, schema *hcl.BodySchema) *blockDecoder {
	content, diags := b.Body.Content(schema)
	d.diags(diags, parent.name)
	pos := hclPos(d.file, b.DefRange.Start)
	parent.fields[b.Type] = pos
	return &blockDecoder{pos: pos, scope: scope{d: d, tunnel: parent.tunnel, name: parent.name,
		prefix: b.Type + ".", attrs: content.Attributes, fields: parent.fields}}
}

type blockDecoder struct {
	pos Pos
	scope
}
