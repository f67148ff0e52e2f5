package pki

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// oidSAN is the subjectAltName extension.
var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

// hasSAN reports whether c has a subjectAltName extension at all, the
// condition under which Go (and RFC 6125) ignore the CN.
func hasSAN(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidSAN) {
			return true
		}
	}
	return false
}

// serverChain is how a client checks the server's chain under tls.verify:
// "chain" checks no name; "name" (the default) checks name as crypto/tls
// does, except for a certificate without any SAN, which Go refuses with
// a message that names no fix: that one is matched on its CN when
// tls.legacy_common_name is set (warning once per certificate), and
// refused with the fix named otherwise.
func serverChain(t *config.Tunnel, roots func() *x509.CertPool, name string, now func() time.Time, log *slog.Logger) chainCheck {
	const usage = x509.ExtKeyUsageServerAuth
	log = orDiscard(log)
	unnamed := verifyChain(roots, "", usage, now)
	if tlsBlock(t).Verify == config.VerifyChain || name == "" {
		return unnamed
	}
	named := verifyChain(roots, name, usage, now)
	legacy := tlsBlock(t).LegacyCommonName
	var warned onceSet
	return func(certs []*x509.Certificate) ([]*x509.Certificate, error) {
		if len(certs) == 0 || hasSAN(certs[0]) {
			return named(certs)
		}
		chain, err := unnamed(certs)
		if err != nil {
			return nil, err
		}
		leaf := chain[0]
		fail := func(format string, args ...any) ([]*x509.Certificate, error) {
			return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: fmt.Errorf(format, args...)}
		}
		switch {
		case !legacy:
			return fail("server certificate %s has no subject alternative name, only CN=%q: reissue it with a SAN for %q, "+
				"or set tls.legacy_common_name = true to match its CN (or tls.verify = \"chain\" to check no name)",
				Fingerprint(leaf.Raw), leaf.Subject.CommonName, name)
		case !cnMatches(leaf.Subject.CommonName, name):
			return fail("server certificate %s has no subject alternative name, and its CN=%q is not %q (tls.legacy_common_name)",
				Fingerprint(leaf.Raw), leaf.Subject.CommonName, name)
		}
		if warned.first(string(sumOf(leaf))) {
			log.Warn("server certificate has no subject alternative name; matched on its CN because tls.legacy_common_name = true",
				"tunnel", t.Name, "fingerprint", Fingerprint(leaf.Raw), "cn", leaf.Subject.CommonName,
				"hint", "reissue it with a SAN")
		}
		return chain, nil
	}
}

func sumOf(c *x509.Certificate) []byte { s := sha256.Sum256(c.Raw); return s[:] }

// cnMatches compares a CN with the expected name exactly, without case
// and trailing dot: no wildcards, which CNs never standardised.
func cnMatches(cn, name string) bool {
	norm := func(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }
	return cn != "" && norm(cn) == norm(name)
}

// orDiscard is log, or a logger that drops everything for the package's
// builders called without one.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
