package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// readmeMaxBytes keeps the README a user's page: long records belong in
// docs/.
const readmeMaxBytes = 25000

// readmeTopBytes is about the README's first screen.
const readmeTopBytes = 2000

// repoRoot is where the integration package's tests find the repository:
// go test runs them in integration/.
const repoRoot = ".."

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
	mdFence   = regexp.MustCompile("^ {0,3}(```|~~~)")
)

// TestReadmeSize holds the README under its budget.
func TestReadmeSize(t *testing.T) {
	fi, err := os.Stat(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > readmeMaxBytes {
		t.Errorf("README.md is %d bytes, over %d: move long explanations to docs/", fi.Size(), readmeMaxBytes)
	}
}

// TestReadmeNewcomerCommands keeps the two commands a newcomer starts
// with on the README's first screen.
func TestReadmeNewcomerCommands(t *testing.T) {
	readme := string(mustRead(t, filepath.Join(repoRoot, "README.md")))
	top := readme[:min(len(readme), readmeTopBytes)]
	for _, cmd := range []string{"go run . demo", "go test ./..."} {
		if !strings.Contains(top, cmd) {
			t.Errorf("README.md does not show %q in its first %d bytes", cmd, readmeTopBytes)
		}
	}
}

// TestDocsLinksResolve fails on a link of README.md, SECURITY.md or
// docs/*.md to a local file that does not exist, or to an anchor that no
// heading of its file makes (GitHub's rule: lowercase, spaces to dashes,
// punctuation but - and _ dropped).
func TestDocsLinksResolve(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{filepath.Join(repoRoot, "README.md"), filepath.Join(repoRoot, "SECURITY.md")}, docs...)
	anchors := map[string]map[string]bool{} // by cleaned path
	anchorsOf := func(path string) map[string]bool {
		path = filepath.Clean(path)
		if a, ok := anchors[path]; ok {
			return a
		}
		a := headingAnchors(string(mustRead(t, path)))
		anchors[path] = a
		return a
	}
	for _, file := range files {
		for _, target := range localLinks(string(mustRead(t, file))) {
			name, frag, _ := strings.Cut(target, "#")
			dest := file
			if name != "" {
				dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(name))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: %v", file, target, err)
					continue
				}
			}
			if frag == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			if !anchorsOf(dest)[frag] {
				t.Errorf("%s: link %q: no heading of %s makes the anchor #%s", file, target, dest, frag)
			}
		}
	}
}

// localLinks returns the targets of a markdown text's links outside code
// blocks, leaving out those to other sites.
func localLinks(text string) []string {
	var out []string
	for _, line := range proseLines(text) {
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			out = append(out, target)
		}
	}
	return out
}

// headingAnchors returns the anchors GitHub makes for a markdown text's
// headings; a repeated heading gets -1, -2, ... as GitHub numbers them.
func headingAnchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(text) {
		m := mdHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := headingSlug(m[1])
		if n := seen[slug]; n > 0 {
			anchors[slug+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

// headingSlug is GitHub's anchor of a heading: lowercase, letters, digits,
// - and _ kept, spaces to -, the rest dropped.
func headingSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// proseLines returns a markdown text's lines outside fenced code blocks.
func proseLines(text string) []string {
	var out []string
	inFence := false
	for _, line := range strings.Split(text, "\n") {
		if mdFence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if !inFence {
			out = append(out, line)
		}
	}
	return out
}
