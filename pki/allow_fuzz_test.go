package pki

import (
	"slices"
	"strings"
	"testing"
)

// FuzzAllowPattern matches a name against an allow.dns and an allow.uri
// pattern: never a panic, and a pattern without '*' matches exactly the
// name it spells (DNS: without case or trailing dot), nothing else.
func FuzzAllowPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"*.eu.example.com", "web-1.eu.example.com"},
		{"**.example.com", "a.b.example.com"},
		{"web-1.example.com.", "WEB-1.example.com"},
		{"*.example.com", ".example.com"},
		{"**.**.*", "a..b"},
		{"web-*.example.com", "web-1.example.com"},
		{"spiffe://prod/ns/*/sa/*", "spiffe://prod/ns/a/sa/b"},
		{"spiffe://prod/**", "spiffe://prod/node/n1/"},
		{"spiffe://prod/node/a", "spiffe://prod/node/a"},
		{"", ""},
		{"*", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		for _, split := range []func(string) []string{dnsSegments, uriSegments} {
			pat, err := splitPattern(split(pattern))
			if err != nil {
				continue
			}
			val := split(name)
			got := matchSegments(pat, val)
			if !strings.Contains(pattern, "*") && got != slices.Equal(pat, val) {
				t.Fatalf("pattern %q (no wildcard) vs %q: match %v, want exact equality", pattern, name, got)
			}
		}
	})
}
