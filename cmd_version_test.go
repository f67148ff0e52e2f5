package main

import (
	"runtime/debug"
	"slices"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	tagged := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	for _, tc := range []struct {
		stamp string
		info  *debug.BuildInfo
		want  string
	}{
		{"v9", tagged, "v9"}, // the -X stamp wins
		{"", tagged, "v1.2.3"},
		{"", checkout, "dev"},
		{"", nil, "dev"},
	} {
		if got := resolveVersion(tc.stamp, tc.info); got != tc.want {
			t.Errorf("resolveVersion(%q, %+v) = %q, want %q", tc.stamp, tc.info, got, tc.want)
		}
	}
}

func TestBuildLines(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8",
		Main: debug.Module{Path: "github.com/passtunnel/passtunnel", Version: "v0.0.0-20260101000000-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := []string{"module: github.com/passtunnel/passtunnel v0.0.0-20260101000000-0123456789ab+dirty",
		"commit: 0123456789ab (modified) 2026-01-01T00:00:00Z", "go: go1.26.8 linux/arm64"}
	if got := buildLines("v1.0.0", info); !slices.Equal(got, want) {
		t.Errorf("buildLines =\n%q\nwant\n%q", got, want)
	}
	// The module line is left out when it is the version line already.
	if got := buildLines(info.Main.Version, info); len(got) != 2 {
		t.Errorf("buildLines repeats the version: %q", got)
	}
}
