package migrate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// block is one HCL block being built: attributes hold finished HCL
// expressions, printed in the order of fieldOrder so that every import
// reads the same way whatever order the source gave its options in.
type block struct {
	kind, label string
	attrs       map[string]string
	children    map[string]*block
	comments    []string
}

func newBlock(kind, label string) *block {
	return &block{kind: kind, label: label, attrs: map[string]string{}, children: map[string]*block{}}
}

// set stores an expression (already HCL: use quote, list, ...).
func (b *block) set(key, expr string) { b.attrs[key] = expr }

// get returns an attribute's expression, "" when unset.
func (b *block) get(key string) string { return b.attrs[key] }

// child returns the nested block kind, creating it.
func (b *block) child(kind string) *block {
	c, ok := b.children[kind]
	if !ok {
		c = newBlock(kind, "")
		b.children[kind] = c
	}
	return c
}

// has reports whether the nested block kind exists.
func (b *block) has(kind string) bool { _, ok := b.children[kind]; return ok }

// fieldOrder is the print order of attributes and blocks; anything not
// listed follows, sorted.
var fieldOrder = []string{
	"mode", "listen", "target", "balance", "unsafe_listen", "server_names", "sni_default",
	"transparent_source", "connect_proxy",
	"cert", "key", "pkcs12", "key_passphrase", "self_signed", "ca", "crl", "system_roots",
	"client_auth", "verify", "server_name", "insecure_skip_verify", "pin",
	"min_version", "max_version", "cipher_suites", "curves", "session_lifetime", "session_resumption",
	"domains", "email", "socket",
	"tls", "allow", "deny", "acme", "spiffe", "limits", "proxy_protocol",
}

func rank(key string) int {
	if i := slices.Index(fieldOrder, key); i >= 0 {
		return i
	}
	return len(fieldOrder)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return keys
}

// write prints b at indentation depth; an empty nested block is left out.
func (b *block) write(sb *strings.Builder, depth int) {
	ind := strings.Repeat("  ", depth)
	for _, c := range b.comments {
		fmt.Fprintf(sb, "%s# %s\n", ind, c)
	}
	head := b.kind
	if b.label != "" {
		head += " " + quote(b.label)
	}
	fmt.Fprintf(sb, "%s%s {\n", ind, head)
	width := 0
	for k := range b.attrs {
		width = max(width, len(k))
	}
	for _, k := range sortedKeys(b.attrs) {
		fmt.Fprintf(sb, "%s  %-*s = %s\n", ind, width, k, b.attrs[k])
	}
	for _, k := range sortedKeys(b.children) {
		if c := b.children[k]; len(c.attrs) > 0 {
			c.write(sb, depth+1)
		}
	}
	fmt.Fprintf(sb, "%s}\n", ind)
}

// quote makes s an HCL string literal; HCL's template sequences ${ and %{
// are escaped so a value is never evaluated.
func quote(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q, "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// list makes an HCL list of string literals.
func list(items ...string) string {
	qs := make([]string, len(items))
	for i, s := range items {
		qs[i] = quote(s)
	}
	return "[" + strings.Join(qs, ", ") + "]"
}

// appendList adds items to the list attribute key of b.
func (b *block) appendList(key string, items ...string) {
	old := strings.TrimSuffix(strings.TrimPrefix(b.attrs[key], "["), "]")
	parts := []string{}
	if old != "" {
		parts = append(parts, old)
	}
	for _, it := range items {
		parts = append(parts, quote(it))
	}
	b.attrs[key] = "[" + strings.Join(parts, ", ") + "]"
}

// envRef is the HCL of a secret read from an environment variable.
func envRef(name string) string { return "env(" + quote(name) + ")" }
