package config

import "reflect"

// WithoutPositions is t with every position cleared: each Pos field, in the
// tunnel and in any block, and the Fields map. Two tunnels mean the same
// thing when their WithoutPositions are reflect.DeepEqual: where a setting
// was written is not part of its meaning. Blocks behind pointers are
// copied before they are cleared, so t, which may belong to a running
// config, is left as it was. The walk finds positions by type, so a block
// or a Pos added later needs no change here.
func (t Tunnel) WithoutPositions() Tunnel {
	clearPositions(reflect.ValueOf(&t).Elem())
	return t
}

var (
	posType    = reflect.TypeFor[Pos]()
	fieldsType = reflect.TypeFor[map[string]Pos]()
)

// clearPositions zeroes the positions in the settable struct v, replacing
// each non-nil pointer to a struct by a cleared copy.
func clearPositions(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case !f.CanSet(): // unexported: a Secret's value, never a position
		case f.Type() == posType || f.Type() == fieldsType:
			f.SetZero()
		case f.Kind() == reflect.Struct:
			clearPositions(f)
		case f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Struct:
			c := reflect.New(f.Elem().Type())
			c.Elem().Set(f.Elem())
			clearPositions(c.Elem())
			f.Set(c)
		}
	}
}
