package config

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
)

func TestCurveID(t *testing.T) {
	tests := map[string]tls.CurveID{
		"X25519": tls.X25519, "x25519": tls.X25519, "X25519MLKEM768": tls.X25519MLKEM768,
		"SecP256r1MLKEM768": tls.SecP256r1MLKEM768, "secp384r1mlkem1024": tls.SecP384r1MLKEM1024,
		"P-256": tls.CurveP256, "secp256r1": tls.CurveP256, "prime256v1": tls.CurveP256,
		"P-384": tls.CurveP384, "secp384r1": tls.CurveP384, "p-521": tls.CurveP521, "secp521r1": tls.CurveP521,
	}
	for name, want := range tests {
		if got, ok := CurveID(name); !ok || got != want {
			t.Errorf("CurveID(%q) = %v, %v; want %v", name, got, ok, want)
		}
		if err := CheckCurve(name); err != nil {
			t.Errorf("CheckCurve(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"P-224", "", "X448"} {
		if _, ok := CurveID(name); ok {
			t.Errorf("CurveID(%q) found", name)
		}
	}
	want := `unknown curve "P-224"; want X25519, X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024, P-256, P-384 or P-521`
	if err := CheckCurve("P-224"); err == nil || err.Error() != want {
		t.Errorf("CheckCurve(P-224) = %v", err)
	}
}

// Every group the table knows is named in the message, so an operator can
// find the hybrids too.
func TestCurveNamesListsEveryGroup(t *testing.T) {
	names := CurveNames()
	var ids []tls.CurveID
	for _, n := range strings.Split(strings.ReplaceAll(names, " or ", ", "), ", ") {
		id, ok := CurveID(n)
		if !ok {
			t.Errorf("CurveNames lists %q, which CurveID does not know", n)
		}
		ids = append(ids, id)
	}
	for _, c := range curveTable {
		if !slices.Contains(ids, c.id) {
			t.Errorf("CurveNames %q lacks %s", names, c.names[0])
		}
	}
}

func TestCipherSuiteID(t *testing.T) {
	for _, s := range tls.InsecureCipherSuites() {
		if _, ok := CipherSuiteID(s.Name); ok {
			t.Errorf("insecure %s found", s.Name)
		}
		if err := CheckCipherSuite(s.Name); err == nil || !strings.Contains(err.Error(), "is insecure") {
			t.Errorf("CheckCipherSuite(%s) = %v", s.Name, err)
		}
	}
	for _, s := range tls.CipherSuites() {
		id, ok := CipherSuiteID(strings.ToLower(s.Name))
		switch {
		case slices.Contains(s.SupportedVersions, tls.VersionTLS12):
			if !ok || id != s.ID {
				t.Errorf("%s: got %x, %v", s.Name, id, ok)
			}
		case ok:
			t.Errorf("TLS 1.3 suite %s found", s.Name)
		case CheckCipherSuite(s.Name) == nil || !strings.Contains(CheckCipherSuite(s.Name).Error(), "TLS 1.3 suite"):
			t.Errorf("CheckCipherSuite(%s) = %v", s.Name, CheckCipherSuite(s.Name))
		}
	}
}

func TestTLSVersion(t *testing.T) {
	for name, want := range map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13} {
		if got, ok := TLSVersion(name); !ok || got != want || CheckTLSVersion(name) != nil {
			t.Errorf("TLSVersion(%q) = %x, %v", name, got, ok)
		}
	}
	// Below the TLS 1.2 floor is not a version a config can name.
	for _, name := range []string{"1.0", "1.1", "2", "", "TLS1.2"} {
		if _, ok := TLSVersion(name); ok || CheckTLSVersion(name) == nil {
			t.Errorf("TLSVersion(%q) found", name)
		}
	}
}
