package pki

import (
	"crypto/tls"
	"fmt"

	"github.com/passtunnel/passtunnel/config"
)

// The names of versions, suites and curves come from config, which has
// already validated them: a name config accepts is one pki builds, and the
// errors below only guard callers that bypass config.

// versions resolves min_version and max_version. config.TLSVersion knows
// only 1.2 and 1.3, so TLS 1.2 is a floor no config can lower.
func versions(t *config.Tunnel) (minV, maxV uint16, err error) {
	if minV, err = version(t, "tls.min_version", t.TLS.MinVersion, tls.VersionTLS12); err != nil {
		return 0, 0, err
	}
	if maxV, err = version(t, "tls.max_version", t.TLS.MaxVersion, tls.VersionTLS13); err != nil {
		return 0, 0, err
	}
	if maxV < minV {
		return 0, 0, fieldError(t, "tls.max_version", fmt.Errorf("%s is below min_version %s",
			tls.VersionName(maxV), tls.VersionName(minV)))
	}
	return minV, maxV, nil
}

// version resolves one version field; "" is the default def.
func version(t *config.Tunnel, field, name string, def uint16) (uint16, error) {
	if name == "" {
		return def, nil
	}
	if err := config.CheckTLSVersion(name); err != nil {
		return 0, fieldError(t, field, err)
	}
	v, _ := config.TLSVersion(name)
	return v, nil
}

// cipherSuites resolves cipher_suites to TLS 1.2 suite IDs; none leaves
// Go's defaults. TLS 1.3 suites are refused, not skipped: Go always enables
// all of them, and a list of only those would leave every TLS 1.2 suite on.
func cipherSuites(t *config.Tunnel) ([]uint16, error) {
	var ids []uint16
	for _, n := range t.TLS.CipherSuites {
		if err := config.CheckCipherSuite(n); err != nil {
			return nil, fieldError(t, "tls.cipher_suites", err)
		}
		id, _ := config.CipherSuiteID(n)
		ids = append(ids, id)
	}
	return ids, nil
}

func curvePrefs(t *config.Tunnel) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	for _, n := range t.TLS.Curves {
		if err := config.CheckCurve(n); err != nil {
			return nil, fieldError(t, "tls.curves", err)
		}
		id, _ := config.CurveID(n)
		ids = append(ids, id)
	}
	return ids, nil
}
