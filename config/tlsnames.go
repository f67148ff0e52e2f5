package config

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// TLSVersion maps a config version ("1.2", "1.3") to its crypto/tls constant.
func TLSVersion(v string) (uint16, bool) {
	switch v {
	case "1.2":
		return tls.VersionTLS12, true
	case "1.3":
		return tls.VersionTLS13, true
	}
	return 0, false
}

// CipherSuiteID maps a TLS 1.2 cipher suite name (as crypto/tls spells it,
// case-insensitive) to its ID. Insecure suites and TLS 1.3 suites, which Go
// does not let anyone configure, are not found.
func CipherSuiteID(name string) (uint16, bool) {
	for _, cs := range tls.CipherSuites() {
		if strings.EqualFold(cs.Name, name) && supports12(cs) {
			return cs.ID, true
		}
	}
	return 0, false
}

func supports12(cs *tls.CipherSuite) bool {
	for _, v := range cs.SupportedVersions {
		if v == tls.VersionTLS12 {
			return true
		}
	}
	return false
}

// cipherSuiteProblem explains why name is not a usable cipher suite.
func cipherSuiteProblem(name string) string {
	if _, ok := CipherSuiteID(name); ok {
		return ""
	}
	for _, cs := range tls.CipherSuites() {
		if strings.EqualFold(cs.Name, name) {
			return fmt.Sprintf("%q is a TLS 1.3 suite; TLS 1.3 suites are not configurable", name)
		}
	}
	for _, cs := range tls.InsecureCipherSuites() {
		if strings.EqualFold(cs.Name, name) {
			return fmt.Sprintf("cipher suite %q is insecure", name)
		}
	}
	return fmt.Sprintf("unknown cipher suite %q", name)
}

// curves accepts the names operators meet in OpenSSL and Go documentation.
var curves = map[string]tls.CurveID{
	"x25519":         tls.X25519,
	"x25519mlkem768": tls.X25519MLKEM768,
	"p-256":          tls.CurveP256,
	"secp256r1":      tls.CurveP256,
	"prime256v1":     tls.CurveP256,
	"p-384":          tls.CurveP384,
	"secp384r1":      tls.CurveP384,
	"p-521":          tls.CurveP521,
	"secp521r1":      tls.CurveP521,

	"secp256r1mlkem768":  tls.SecP256r1MLKEM768,
	"secp384r1mlkem1024": tls.SecP384r1MLKEM1024,
}

// CurveID maps a curve (key exchange group) name, case-insensitive, to its ID:
// X25519, X25519MLKEM768, P-256 (secp256r1), P-384 (secp384r1), P-521
// (secp521r1), and the hybrids SecP256r1MLKEM768 and SecP384r1MLKEM1024.
func CurveID(name string) (tls.CurveID, bool) {
	id, ok := curves[strings.ToLower(name)]
	return id, ok
}

const curveNames = "X25519, X25519MLKEM768, P-256, P-384 or P-521"

// parseDuration accepts Go durations ("10s", "1m30s"); the sign is checked
// by the validator so that flags and HCL report it the same way.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}
