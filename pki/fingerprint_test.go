package pki

import (
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

func TestFingerprintKnownAnswer(t *testing.T) {
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	const want = "SHA256:BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:" +
		"B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
	if got := Fingerprint([]byte("abc")); got != want {
		t.Errorf("Fingerprint(abc) =\n %s\nwant\n %s", got, want)
	}
}

func TestFingerprintFile(t *testing.T) {
	ca := newTestCA(t, "ca")
	certFile, _ := ca.issueFiles(t, "leaf", serverSpec())
	// A chain: the leaf's fingerprint is wanted, not the CA's.
	chain := writeFile(t, "chain.pem", append(readTestFile(t, certFile), ca.CertPEM()...))
	got, err := FingerprintFile(chain)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := LoadKeyPair(certFile, strings.TrimSuffix(certFile, ".crt")+".key")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.Certificate[0])
	var parts []string
	for _, b := range sum {
		parts = append(parts, strings.ToUpper(hex.EncodeToString([]byte{b})))
	}
	if want := "SHA256:" + strings.Join(parts, ":"); got != want {
		t.Fatalf("FingerprintFile =\n %s\nwant\n %s", got, want)
	}

	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: cross-check against openssl x509 -fingerprint skipped")
	}
	out, err := exec.Command(openssl, "x509", "-in", chain, "-noout", "-fingerprint", "-sha256").Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	// "sha256 Fingerprint=AB:CD:..." (OpenSSL 3) or "SHA256 Fingerprint=..." (1.1).
	_, hexpart, ok := strings.Cut(strings.TrimSpace(string(out)), "=")
	if !ok || "SHA256:"+hexpart != got {
		t.Errorf("openssl says %q, we say %q", out, got)
	}
}

func TestFingerprintFileErrors(t *testing.T) {
	notPEM := writeFile(t, "x.pem", []byte("not a certificate"))
	if _, err := FingerprintFile(notPEM); err == nil || !strings.Contains(err.Error(), notPEM) {
		t.Errorf("error %v does not name %s", err, notPEM)
	}
}
