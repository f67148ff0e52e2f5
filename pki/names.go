package pki

import (
	"crypto/tls"
	"slices"
	"strings"
)

// CurveByName resolves a key exchange name ("X25519", "P-256", "secp384r1",
// "X25519MLKEM768"...), case-insensitively; the OpenSSL aliases are
// accepted because stunnel configs use them.
func CurveByName(name string) (tls.CurveID, bool) {
	switch strings.ToLower(name) {
	case "x25519":
		return tls.X25519, true
	case "p-256", "secp256r1", "prime256v1":
		return tls.CurveP256, true
	case "p-384", "secp384r1":
		return tls.CurveP384, true
	case "p-521", "secp521r1":
		return tls.CurveP521, true
	case "x25519mlkem768":
		return tls.X25519MLKEM768, true
	case "secp256r1mlkem768":
		return tls.SecP256r1MLKEM768, true
	case "secp384r1mlkem1024":
		return tls.SecP384r1MLKEM1024, true
	}
	return 0, false
}

// CipherSuiteByName resolves a Go cipher suite name (tls.CipherSuites),
// case-insensitively. Suites Go deems insecure are not found.
func CipherSuiteByName(name string) (uint16, bool) {
	s := findSuite(tls.CipherSuites(), name)
	if s == nil {
		return 0, false
	}
	return s.ID, true
}

// isInsecureSuite lets the error say "insecure" rather than "unknown", so
// the operator does not go hunting for a typo.
func isInsecureSuite(name string) bool {
	return findSuite(tls.InsecureCipherSuites(), name) != nil
}

// isTLS13Suite reports whether id can only be used by TLS 1.3, whose suites
// Go always enables and does not let a config choose.
func isTLS13Suite(id uint16) bool {
	for _, s := range tls.CipherSuites() {
		if s.ID == id {
			return !slices.Contains(s.SupportedVersions, tls.VersionTLS12)
		}
	}
	return false
}

func findSuite(suites []*tls.CipherSuite, name string) *tls.CipherSuite {
	for _, s := range suites {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// versionByName parses the min_version / max_version values. Old versions
// parse so that the floor can be applied with a clear error, not "unknown".
func versionByName(name string) (uint16, bool) {
	switch name {
	case "1.0":
		return tls.VersionTLS10, true
	case "1.1":
		return tls.VersionTLS11, true
	case "1.2":
		return tls.VersionTLS12, true
	case "1.3":
		return tls.VersionTLS13, true
	}
	return 0, false
}
