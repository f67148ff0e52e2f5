package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"strings"
	"time"
)

// Fingerprint is the SHA-256 of a DER certificate written as
// "SHA256:AB:CD:...", the form openssl prints and `pin` accepts.
func Fingerprint(der []byte) string {
	const hexdigits = "0123456789ABCDEF"
	sum := sha256.Sum256(der)
	var b strings.Builder
	b.Grow(len("SHA256:") + 3*len(sum))
	b.WriteString("SHA256")
	for _, c := range sum {
		b.WriteByte(':')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&0x0f])
	}
	return b.String()
}

// FingerprintFile fingerprints the first certificate of a PEM file, which
// is the leaf when the file holds a chain.
func FingerprintFile(path string) (string, error) {
	certs, err := loadCerts(roleCert, path)
	if err != nil {
		return "", err
	}
	return Fingerprint(certs[0].Raw), nil
}

// certLogArgs name a certificate in the lines that say which one is in
// use ("certificate loaded", "certificate reloaded"): what an operator
// compares with the file on disk and with the CA's records.
func certLogArgs(leaf *x509.Certificate) []any {
	return []any{
		"subject", leaf.Subject.String(),
		"issuer", leaf.Issuer.String(),
		"fingerprint", Fingerprint(leaf.Raw),
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339),
	}
}
