package integration

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// needLandlock skips a test when the kernel has no Landlock. Landlock is a
// kernel feature, not a program that can be installed, so this skips even
// under PASSTUNNEL_REQUIRE_PEERS: the syscall's own probe decides, as
// /sys/kernel/security/lsm is missing where securityfs is not mounted.
func needLandlock(t *testing.T) {
	t.Helper()
	if abi, err := llsys.LandlockGetABIVersion(); err != nil || abi < 1 {
		t.Skipf("this kernel has no Landlock (ABI probe: %d, %v): the sandbox cannot be tested here", abi, err)
	}
}

// TestSandboxConfinesReload: with the sandbox on, a reload that reads a
// file in a directory the config did not use at start is refused with an
// error naming the sandbox and --no-sandbox (a file() secret, refused by
// the kernel itself, and a certificate, refused before the kernel would),
// while the certificate in use still hot-reloads; with --no-sandbox the
// same reloads are applied.
func TestSandboxConfinesReload(t *testing.T) {
	needLandlock(t)
	ca := newAuthority(t, "passtunnel-it sandbox CA")
	certs := t.TempDir()
	first := issuePEM(t, ca, serverLeaf())
	cert, key := writeFile(t, certs, "tls.crt", first.cert), writeFile(t, certs, "tls.key", first.key)
	caFile := writeFile(t, certs, "ca.crt", ca.CertPEM())
	elsewhere := t.TempDir()
	secret := writeFile(t, elsewhere, "secret", []byte(rand.Text()))
	other := issue(t, ca, elsewhere, "other", serverLeaf())

	be := startEcho(t)
	base := tun{name: "edge", mode: "server", listen: "127.0.0.1:0", target: be.addr, cert: cert, key: key, ca: caFile}
	withSecret := strings.Replace(configText(base), "  tls {", "  shared_secret = file(\""+secret+"\")\n  tls {", 1)
	moved := base
	moved.cert, moved.key = other.cert, other.key

	for _, sandboxed := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "passtunnel.hcl")
		replaceFile(t, path, configText(base))
		var flags []string
		if !sandboxed {
			flags = []string{"--no-sandbox"}
		}
		p := runReloadable(t, path, flags...)
		addr := p.listenAddr(t, "edge")
		if sandboxed {
			p.mustLog(t, startTimeout, "the sandbox applied", func(e logEntry) bool {
				return strings.HasPrefix(e.str("msg"), "sandbox: landlock ABI")
			})
			pool := x509.NewCertPool()
			pool.AddCert(ca.Cert)
			pr := startProber(t, addr, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12,
				Certificates: []tls.Certificate{issuePEM(t, ca, clientLeafSpec()).pair(t)}})
			pr.waitServed(t, first.fp, startTimeout)
			next := issuePEM(t, ca, serverLeaf())
			replaceFile(t, key, string(next.key))
			replaceFile(t, cert, string(next.cert))
			pr.waitServed(t, next.fp, rotationDeadline)
			pr.stop()
		}
		for _, text := range []string{withSecret, configText(moved)} {
			res := p.reload(t, text)
			got := res.str("msg") + ": " + res.str("error")
			if refused := strings.Contains(got, "--no-sandbox"); refused != sandboxed {
				t.Errorf("sandbox %v: reload to a file in another directory: %s", sandboxed, got)
			}
		}
	}
}

func clientLeafSpec() pkitest.LeafSpec {
	return pkitest.LeafSpec{CommonName: "sandbox-client", Client: true}
}

// TestSandboxKeepsProcessMetrics: the process collector reads /proc/self
// (stat, status, limits, fd); the sandbox once denied it, and client_golang
// drops those errors, so RSS, CPU and the descriptor limit silently left
// /metrics whenever the sandbox was on.
func TestSandboxKeepsProcessMetrics(t *testing.T) {
	needLandlock(t)
	t.Parallel()
	f := newFixture(t)
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configText(f.serverTun("m", "127.0.0.1:0", startEcho(t).addr)), nil)
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	pt.mustLog(t, startTimeout, "the sandbox applied", func(e logEntry) bool {
		return strings.HasPrefix(e.str("msg"), "sandbox: landlock ABI")
	})
	_, body := admin.get(t, "/metrics") // metrics() keeps passtunnel_ series only
	for _, name := range []string{"process_resident_memory_bytes", "process_cpu_seconds_total", "process_max_fds", "process_open_fds"} {
		var v float64
		found := false
		for _, line := range strings.Split(body, "\n") {
			if rest, ok := strings.CutPrefix(line, name+" "); ok {
				v, found = parseFloat(rest), true
			}
		}
		if !found || v <= 0 {
			t.Errorf("%s = %v (present %v) under the sandbox", name, v, found)
		}
	}
}

func parseFloat(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return -1
	}
	return v
}
