package integration

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The known answer of the derivation, the same constants as
// TestClusterCAKnownAnswer in pki/derive_test.go.
const (
	katPassphrase  = "passtunnel known-answer test passphrase"
	katCluster     = "kat"
	katFingerprint = "SHA256:CF:80:F8:B0:E9:56:39:A8:45:93:EE:6F:40:A0:F4:B5:" +
		"EC:6E:B4:62:D0:99:B1:87:81:80:9E:FF:30:D5:46:DC"
)

// sha256Fingerprint is "SHA256:AB:CD:..." of der, computed here rather than
// by the pki package under test.
func sha256Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return "SHA256:" + strings.Join(parts, ":")
}

// caOutput is the parsed stdout of `pki ca`: one PEM certificate, then one
// fingerprint line.
type caOutput struct {
	raw         string
	cert        *x509.Certificate
	pem         []byte
	fingerprint string
}

func parseCAOutput(t *testing.T, out string) caOutput {
	t.Helper()
	block, rest := pem.Decode([]byte(out))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("pki ca: stdout does not start with a PEM certificate:\n%s", out)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("pki ca: certificate does not parse: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(rest)), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "SHA256:") {
		t.Fatalf("pki ca: after the PEM, want exactly one line SHA256:..., got %q", rest)
	}
	fp := strings.TrimSpace(lines[0])
	if want := sha256Fingerprint(cert.Raw); fp != want {
		t.Fatalf("pki ca: printed fingerprint %s is not the certificate's %s", fp, want)
	}
	return caOutput{raw: out, cert: cert, pem: pem.EncodeToMemory(block), fingerprint: fp}
}

// TestPKICADeterministic: `pki ca` is the same in separate processes, pins
// the known answer, and depends on the cluster; file and env agree.
func TestPKICADeterministic(t *testing.T) {
	passphraseTest(t)
	kat := writePassphrase(t, katPassphrase)

	// Three processes at once: two identical, one with another cluster.
	start := func(env []string, args ...string) *proc {
		return startProc(t, binPath, append([]string{"pki", "ca"}, args...), procOpts{env: env})
	}
	const envVar = "PASSTUNNEL_IT_KAT_PASSPHRASE"
	procs := []*proc{
		start(nil, "--passphrase-file", kat, "--cluster", katCluster),
		start(nil, "--passphrase-file", kat, "--cluster", katCluster),
		start([]string{envVar + "=" + katPassphrase}, "--passphrase-env", envVar, "--cluster", katCluster),
		start(nil, "--passphrase-file", kat, "--cluster", "kat-other"),
	}
	outs := make([]string, len(procs))
	for i, p := range procs {
		if code := p.mustExit(t, pkiTimeout); code != 0 {
			t.Fatalf("%s: exit code %d\nstderr:\n%s", p.label, code, p.stderr.String())
		}
		outs[i] = p.stdout.String()
	}
	a := parseCAOutput(t, outs[0])
	if outs[0] != outs[1] {
		t.Errorf("two processes printed different CAs:\n%s\n---\n%s", outs[0], outs[1])
	}
	if a.fingerprint != katFingerprint {
		t.Errorf("known answer: fingerprint\n %s\nwant\n %s", a.fingerprint, katFingerprint)
	}
	if outs[2] != outs[0] {
		t.Errorf("--passphrase-env and --passphrase-file (same passphrase, the file ending in a newline) "+
			"print different CAs: fingerprints %s and %s", parseCAOutput(t, outs[2]).fingerprint, a.fingerprint)
	}
	other := parseCAOutput(t, outs[3])
	if other.fingerprint == a.fingerprint || bytes.Equal(other.cert.Raw, a.cert.Raw) {
		t.Errorf("cluster %q and %q gave the same CA %s", katCluster, "kat-other", a.fingerprint)
	}
	for _, c := range []caOutput{a, other} {
		if !c.cert.IsCA || c.cert.CheckSignatureFrom(c.cert) != nil {
			t.Errorf("CA %s: IsCA %v, self-signature: %v", c.fingerprint, c.cert.IsCA, c.cert.CheckSignatureFrom(c.cert))
		}
		if c.cert.NotAfter.Year() != 9999 {
			t.Errorf("CA %s: NotAfter %v, want 9999-12-31 (no expiry)", c.fingerprint, c.cert.NotAfter)
		}
	}
}

// TestPKIIssueOpenSSL: a cert from `pki issue` lets openssl s_client in to
// a passphrase server tunnel; without a client cert it is refused.
func TestPKIIssueOpenSSL(t *testing.T) {
	passphraseTest(t)
	openssl := needProgram(t, "openssl")
	_, pf := passFile(t)
	be := startEcho(t)
	srv := startPassRun(t, nil, ptun{name: "s", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf})
	id := pkiIssue(t, pf, "it-openssl")
	caOut := runPKI(t, nil, "ca", "--passphrase-file", pf)
	addr := srv.listenAddr(t, "s")

	t.Run("files", func(t *testing.T) {
		for _, f := range []string{id.cert, id.key, id.ca} {
			if _, err := os.Stat(f); err != nil {
				t.Fatalf("pki issue: %v", err)
			}
		}
		st, err := os.Stat(id.key)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", id.key, mode)
		}
		ca := parseCAOutput(t, caOut.stdout.String())
		if !bytes.Equal(bytes.TrimSpace(mustRead(t, id.ca)), bytes.TrimSpace(ca.pem)) {
			t.Errorf("ca.crt of pki issue is not the CA that pki ca prints (%s)", ca.fingerprint)
		}
		pair := id.pair(t)
		roots := x509.NewCertPool()
		roots.AddCert(ca.cert)
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: roots,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("issued cert does not verify as a client cert against the CA: %v", err)
		}
		if pair.Leaf.Subject.CommonName != "it-openssl" {
			t.Errorf("issued cert CN %q, want it-openssl", pair.Leaf.Subject.CommonName)
		}
	})

	sClient := func(t *testing.T, withCert bool, line string) *proc {
		args := []string{"s_client", "-connect", addr, "-CAfile", id.ca, "-verify_return_error", "-quiet"}
		if withCert {
			args = append(args, "-cert", id.cert, "-key", id.key)
		}
		c := startProc(t, openssl, args, procOpts{stdin: true})
		_, _ = c.stdin.Write([]byte(line + "\n"))
		return c
	}

	t.Run("issued cert echoes", func(t *testing.T) {
		const line = "hello passphrase server from openssl"
		c := sClient(t, true, line)
		c.mustLine(t, c.stdout, ioTimeout, "echoing "+line, func(l string) bool { return l == line })
		c.kill() // s_client -quiet ignores stdin EOF
		srv.mustLog(t, ioTimeout, "connection closed", logMatch("connection closed", "tunnel", "s"))
	})

	t.Run("no client cert refused", func(t *testing.T) {
		const line = "must not arrive without a client cert"
		c := sClient(t, false, line)
		e := srv.mustLog(t, ioTimeout, "handshake failed", logMatch("handshake failed", "tunnel", "s"))
		if r := e.str("reason"); r != "no_client_cert" {
			t.Errorf("handshake failed with reason %q, want no_client_cert: %v", r, e)
		}
		c.waitExit(5 * time.Second) // s_client quits on the alert; it is killed otherwise
		if strings.Contains(c.stdout.String(), line) {
			t.Fatal("bytes echoed without a client certificate")
		}
	})
}
