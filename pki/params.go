package pki

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/passtunnel/passtunnel/config"
)

// versions resolves min_version and max_version. TLS 1.2 is a floor no
// config can lower: a min below it is raised, a max below it is an error.
func versions(t *config.Tunnel) (minV, maxV uint16, err error) {
	minV, maxV = tls.VersionTLS12, tls.VersionTLS13
	if s := t.TLS.MinVersion; s != "" {
		v, ok := versionByName(s)
		if !ok {
			return 0, 0, fieldError(t, "tls.min_version", fmt.Errorf("unknown version %q: want \"1.2\" or \"1.3\"", s))
		}
		minV = max(minV, v)
	}
	if s := t.TLS.MaxVersion; s != "" {
		v, ok := versionByName(s)
		if !ok {
			return 0, 0, fieldError(t, "tls.max_version", fmt.Errorf("unknown version %q: want \"1.2\" or \"1.3\"", s))
		}
		if v < tls.VersionTLS12 {
			return 0, 0, fieldError(t, "tls.max_version", fmt.Errorf("TLS %s is below the TLS 1.2 floor", s))
		}
		maxV = v
	}
	if maxV < minV {
		return 0, 0, fieldError(t, "tls.max_version", fmt.Errorf("%s is below min_version %s",
			tls.VersionName(maxV), tls.VersionName(minV)))
	}
	return minV, maxV, nil
}

// cipherSuites resolves cipher_suites to TLS 1.2 suite IDs. TLS 1.3 names
// are accepted and skipped because Go always enables every TLS 1.3 suite.
func cipherSuites(t *config.Tunnel, minV uint16) ([]uint16, error) {
	names := t.TLS.CipherSuites
	if len(names) == 0 {
		return nil, nil
	}
	var ids []uint16
	for _, n := range names {
		id, ok := CipherSuiteByName(n)
		switch {
		case !ok && isInsecureSuite(n):
			return nil, fieldError(t, "tls.cipher_suites", fmt.Errorf("%q is insecure and refused", n))
		case !ok:
			return nil, fieldError(t, "tls.cipher_suites", fmt.Errorf(
				"unknown suite %q: use Go's names, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", n))
		case !isTLS13Suite(id):
			ids = append(ids, id)
		}
	}
	// An empty list means "Go's defaults" to crypto/tls: a list of TLS 1.3
	// names only would silently enable every TLS 1.2 suite.
	if len(ids) == 0 && minV <= tls.VersionTLS12 {
		return nil, fieldError(t, "tls.cipher_suites", errors.New(
			"lists only TLS 1.3 suites, which are always on: name at least one TLS 1.2 suite or set min_version = \"1.3\""))
	}
	return ids, nil
}

func curvePrefs(t *config.Tunnel) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	for _, n := range t.TLS.Curves {
		id, ok := CurveByName(n)
		if !ok {
			return nil, fieldError(t, "tls.curves", fmt.Errorf(
				"unknown curve %q: want X25519, P-256, P-384, P-521 or X25519MLKEM768", n))
		}
		ids = append(ids, id)
	}
	return ids, nil
}
