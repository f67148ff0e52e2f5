package integration

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestDockerfileBuildIsStatic runs the Dockerfile's own build command and
// checks that the result needs no dynamic loader, since the distroless
// static image has none.
func TestDockerfileBuildIsStatic(t *testing.T) {
	t.Parallel()
	dockerfile := string(mustRead(t, filepath.Join("..", "Dockerfile")))
	m := regexp.MustCompile(`RUN CGO_ENABLED=0 GOOS=\$\{TARGETOS\} GOARCH=\$\{TARGETARCH\} go build (.*) -o /out/passtunnel \.`).FindStringSubmatch(dockerfile)
	if m == nil {
		t.Fatal("Dockerfile: no `RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build ... -o /out/passtunnel .` line")
	}
	if !regexp.MustCompile(`^-trimpath .*-buildid= `).MatchString(m[1]) {
		t.Errorf("Dockerfile's go build flags %q: want -trimpath and an empty -buildid, as the release script", m[1])
	}
	for _, want := range []string{"FROM --platform=$BUILDPLATFORM golang:", "ARG TARGETOS TARGETARCH",
		"FROM gcr.io/distroless/static", "USER 65532", `ENTRYPOINT ["/usr/local/bin/passtunnel"]`,
		"PASSTUNNEL_CONFIG=/etc/passtunnel/passtunnel.hcl"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(dockerfile) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	out := filepath.Join(t.TempDir(), "passtunnel")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", out, "github.com/passtunnel/passtunnel")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader; the distroless static image has none")
		}
	}
	if v := binaryVersion(t, out); v != "test" {
		t.Fatalf("static binary `version` says %q; want the stamped version", v)
	}
}
