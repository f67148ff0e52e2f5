package integration

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/pki"
)

// generated is the parsed stdout of `pki passphrase`.
type generated struct{ passphrase, cluster string }

var (
	generatedFormat = regexp.MustCompile(`^passphrase: (\S+)   \((\d+) bits; keep it in a file or a Secret, never in argv\)\n` +
		`cluster:    (\S+)$`) // lineBuffer.String drops the last newline
	base32Chars = regexp.MustCompile(`[a-z2-7]`)
	// clusterLabel is what pki requires of a cluster name: a DNS label.
	clusterLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// runGenerate runs `pki passphrase` and checks the shape of its output. A
// failure shows the output with every base32 character as x: the value is
// a secret even in a test.
func runGenerate(t *testing.T) generated {
	t.Helper()
	p := startProc(t, binPath, []string{"pki", "passphrase"}, procOpts{secretStdout: true})
	if code := p.mustExit(t, pkiTimeout); code != 0 {
		t.Fatalf("pki passphrase: exit code %d, stderr:\n%s", code, p.stderr.String())
	}
	out := p.stdout.String()
	m := generatedFormat.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("pki passphrase: output not in the documented form:\n%s", base32Chars.ReplaceAllString(out, "x"))
	}
	chars := strings.ReplaceAll(m[1], "-", "")
	if strings.Trim(chars, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("pki passphrase: a character outside lowercase base32 in %s", base32Chars.ReplaceAllString(m[1], "x"))
	}
	// Each character is drawn uniformly from 32: log2(32) bits.
	bits := float64(len(chars)) * math.Log2(32)
	if printed, _ := strconv.Atoi(m[2]); bits < 128 || printed != int(bits) {
		t.Errorf("pki passphrase: %d characters carry %.0f bits, the output says %s; want >= 128", len(chars), bits, m[2])
	}
	if err := pki.CheckPassphrase(m[1]); err != nil {
		t.Errorf("pki passphrase: the policy refuses its passphrase: %v", err)
	}
	if !clusterLabel.MatchString(m[3]) || !strings.HasPrefix(m[3], "c-") {
		t.Errorf("pki passphrase: cluster %q is not c-... and a DNS label", m[3])
	}
	return generated{passphrase: m[1], cluster: m[3]}
}

// TestPKIPassphrase: `pki passphrase` prints a new strong passphrase and a
// new cluster name on each run, and `pki ca` takes both as they are.
func TestPKIPassphrase(t *testing.T) {
	t.Parallel()
	a, b := runGenerate(t), runGenerate(t)
	if a.passphrase == b.passphrase || a.cluster == b.cluster {
		t.Errorf("two runs printed the same passphrase (%v) or cluster (%v)",
			a.passphrase == b.passphrase, a.cluster == b.cluster)
	}
	const envVar = "PASSTUNNEL_IT_NEW_PASSPHRASE"
	ca := runPKI(t, []string{envVar + "=" + a.passphrase}, "ca", "--passphrase-env", envVar, "--cluster", a.cluster)
	parseCAOutput(t, ca.stdout.String())
	if ca.stderr.String() != "" {
		t.Errorf("pki ca with a new passphrase and cluster warned:\n%s", ca.stderr.String())
	}

	help := startProc(t, binPath, []string{"pki", "passphrase", "-h"}, procOpts{})
	if code := help.mustExit(t, pkiTimeout); code != 0 || !strings.Contains(help.stdout.String(), "usage: passtunnel pki passphrase") {
		t.Errorf("pki passphrase -h: exit code %d, stdout:\n%s", code, help.stdout.String())
	}
}
