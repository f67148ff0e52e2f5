package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// wantExactErrors parses src as bad.hcl and requires exactly the error
// lines of want, in any order.
func wantExactErrors(t *testing.T, src string, want []string) {
	t.Helper()
	_, err := Parse([]byte(src), "bad.hcl")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T (%v), not Errors", err, err)
	}
	got := strings.Split(err.Error(), "\n")
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %s\ngot:\n%s", w, err)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d messages, want %d:\n%s", len(got), len(want), err)
	}
}
