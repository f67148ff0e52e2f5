package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReleaseScript runs scripts/release.sh for the host's target, as a
// release would, into two directories: each SHA256SUMS matches its binary,
// both builds are byte-identical, and the binary starts and names the
// version and commit it was built from.
func TestReleaseScript(t *testing.T) {
	t.Parallel()
	needProgram(t, "bash")
	git := needProgram(t, "git")
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		skipOrFail(t, "not a git checkout (the release script builds a commit): %v", err)
	}
	target := runtime.GOOS + "/" + runtime.GOARCH
	const version = "v0.0.0-releasetest"
	name := fmt.Sprintf("passtunnel-%s-%s-%s", version, runtime.GOOS, runtime.GOARCH)

	var dists, sums [2]string
	for i := range dists {
		dists[i] = t.TempDir()
		release(t, dists[i], version, target)
		sums[i] = checkSums(t, dists[i], name)
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds of one commit differ: %s and %s", sums[0], sums[1])
	}

	bin := filepath.Join(dists[0], name)
	if v := binaryVersion(t, bin); v != version {
		t.Errorf("release binary says version %q, want %q", v, version)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "commit: " + string(head[:12]); !strings.Contains(string(out), want) {
		t.Errorf("release binary `version`:\n%s\nwant a line %q", out, want)
	}
}

// release runs the release script for target into dist, bounded.
func release(t *testing.T, dist, version, target string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a cold build cache compiles everything
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "scripts", "release.sh"), target)
	cmd.Env = append(os.Environ(), "DIST="+dist, "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh %s: %v\n%s", target, err, out)
	}
}

// checkSums checks that dist/SHA256SUMS is exactly one line naming name
// with its SHA-256, and returns that sum.
func checkSums(t *testing.T, dist, name string) string {
	t.Helper()
	sum := sha256.Sum256(mustRead(t, filepath.Join(dist, name)))
	want := hex.EncodeToString(sum[:]) + "  " + name + "\n"
	if got := string(mustRead(t, filepath.Join(dist, "SHA256SUMS"))); got != want {
		t.Fatalf("SHA256SUMS = %q, want %q", got, want)
	}
	return want
}
