package config

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// This file is the one table of TLS names: config validates with it, and
// pki builds its *tls.Config with it, so that a name config accepts is
// always one pki understands.

// TLSVersion maps a config version ("1.2", "1.3") to its crypto/tls constant.
// Older versions are unknown on purpose: TLS 1.2 is a floor no config lowers.
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
// does not let anyone configure, are not found; CheckCipherSuite says which.
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

// CheckCipherSuite returns nil when CipherSuiteID finds name, and otherwise
// says why it does not, so the operator does not hunt for a typo in the name
// of a suite that is merely insecure.
func CheckCipherSuite(name string) error {
	if _, ok := CipherSuiteID(name); ok {
		return nil
	}
	for _, cs := range tls.CipherSuites() {
		if strings.EqualFold(cs.Name, name) {
			return fmt.Errorf("%q is a TLS 1.3 suite; TLS 1.3 suites are not configurable", name)
		}
	}
	for _, cs := range tls.InsecureCipherSuites() {
		if strings.EqualFold(cs.Name, name) {
			return fmt.Errorf("cipher suite %q is insecure", name)
		}
	}
	return fmt.Errorf("unknown cipher suite %q", name)
}

// curveTable lists the key exchange groups a config may name. The first name
// of each is the one messages show; the others are the OpenSSL aliases that
// operators meet in stunnel configs.
var curveTable = []struct {
	id    tls.CurveID
	names []string
}{
	{tls.X25519, []string{"X25519"}},
	{tls.X25519MLKEM768, []string{"X25519MLKEM768"}},
	{tls.SecP256r1MLKEM768, []string{"SecP256r1MLKEM768"}},
	{tls.SecP384r1MLKEM1024, []string{"SecP384r1MLKEM1024"}},
	{tls.CurveP256, []string{"P-256", "secp256r1", "prime256v1"}},
	{tls.CurveP384, []string{"P-384", "secp384r1"}},
	{tls.CurveP521, []string{"P-521", "secp521r1"}},
}

// CurveID maps a curve (key exchange group) name, case-insensitive, to its
// ID; CurveNames lists the names.
func CurveID(name string) (tls.CurveID, bool) {
	for _, c := range curveTable {
		for _, n := range c.names {
			if strings.EqualFold(n, name) {
				return c.id, true
			}
		}
	}
	return 0, false
}

// CurveNames lists every group CurveID knows, by its main name, as
// "A, B or C" for messages and usage.
func CurveNames() string {
	names := make([]string, len(curveTable))
	for i, c := range curveTable {
		names[i] = c.names[0]
	}
	last := len(names) - 1
	return strings.Join(names[:last], ", ") + " or " + names[last]
}

// CheckCurve returns nil when CurveID knows name, and otherwise an error
// that lists the names it knows.
func CheckCurve(name string) error {
	if _, ok := CurveID(name); ok {
		return nil
	}
	return fmt.Errorf("unknown curve %q; want %s", name, CurveNames())
}

// CheckTLSVersion returns nil when TLSVersion knows v, and otherwise an
// error that lists the versions it knows.
func CheckTLSVersion(v string) error {
	if _, ok := TLSVersion(v); ok {
		return nil
	}
	return fmt.Errorf(`invalid TLS version %q; want "1.2" or "1.3"`, v)
}

// parseDuration accepts Go durations ("10s", "1m30s"); the sign is checked
// by the validator so that flags and HCL report it the same way.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return d, nil
}
