package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is the release's name. A release build stamps it with
// -ldflags "-X main.version=..."; otherwise init fills it from the module
// version Go records in the binary (a tag, a pseudo-version, or "dev"
// when there is none). It must stay uninitialized for -X to apply.
var version string

// commit and commitTime are stamped by a build from a source tree without
// its .git (the release script's export of a commit, a container build), where
// Go cannot read the revision itself; what Go records wins.
var commit, commitTime string

// init resolves the version once, before main wires it into the daemon
// (passtunnel_build_info) and `passtunnel version`, so both say the same.
func init() {
	info, _ := debug.ReadBuildInfo()
	version = resolveVersion(version, info)
}

// resolveVersion prefers the -X stamp, then the module version unless Go
// only knows it as "(devel)", then "dev".
func resolveVersion(stamp string, info *debug.BuildInfo) string {
	switch {
	case stamp != "":
		return stamp
	case info != nil && info.Main.Version != "" && info.Main.Version != "(devel)":
		return info.Main.Version
	}
	return "dev"
}

// buildLines describes the build after the version line: the module
// version when the stamp hides it, the source revision and its time, and
// the toolchain, so a bug report pins down exactly what ran.
func buildLines(version string, info *debug.BuildInfo) []string {
	if info == nil {
		return []string{"go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	}
	settings := map[string]string{"vcs.revision": commit, "vcs.time": commitTime}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var lines []string
	if m := info.Main.Version; m != "" && m != version {
		lines = append(lines, "module: "+info.Main.Path+" "+m)
	}
	if rev := settings["vcs.revision"]; rev != "" {
		line := "commit: " + shortRevision(rev)
		if settings["vcs.modified"] == "true" {
			line += " (modified)"
		}
		if t := settings["vcs.time"]; t != "" {
			line += " " + t
		}
		lines = append(lines, line)
	}
	platform := settings["GOOS"] + "/" + settings["GOARCH"]
	if platform == "/" {
		platform = runtime.GOOS + "/" + runtime.GOARCH
	}
	return append(lines, "go: "+info.GoVersion+" "+platform)
}

// shortRevision cuts a commit hash to the 12 characters Go's
// pseudo-versions use, enough to be unique in practice.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// cmdVersion prints "passtunnel VERSION" first, the line scripts match,
// then the build's details one per line.
func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "")
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	_, err := fmt.Fprintf(stdout, "passtunnel %s\n%s\n", version, strings.Join(buildLines(version, info), "\n"))
	return err
}
