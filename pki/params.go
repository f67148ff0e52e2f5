package pki

import (
	"crypto/tls"
	"fmt"
	"slices"

	"github.com/passtunnel/passtunnel/config"
)

// The names of versions, suites and curves come from config, which has
// already validated them: a name config accepts is one pki builds, and the
// errors below only guard callers that bypass config.

// versions resolves min_version and max_version. config.TLSVersion knows
// only 1.2 and 1.3, so TLS 1.2 is a floor no config can lower.
func versions(t *config.Tunnel) (minV, maxV uint16, err error) {
	c := tlsBlock(t)
	floor := uint16(tls.VersionTLS12)
	if t.Passphrase.IsSet() {
		floor = tls.VersionTLS13 // as config makes it: see tlsBlock
	}
	if minV, err = version(t, "tls.min_version", c.MinVersion, floor); err != nil {
		return 0, 0, err
	}
	if maxV, err = version(t, "tls.max_version", c.MaxVersion, tls.VersionTLS13); err != nil {
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

// tlsBlock is t's tls block, or the defaults when it has none: a
// passphrase tunnel then speaks TLS 1.3 only, as config makes it when the
// block is there without min_version.
func tlsBlock(t *config.Tunnel) *config.TLS {
	if t.TLS != nil {
		return t.TLS
	}
	d := config.DefaultTLS(t.Mode)
	if t.Passphrase.IsSet() {
		d.MinVersion = "1.3"
	}
	return d
}

// forwardSecretSuites are the TLS 1.2 suites used when cipher_suites is
// left out: ECDHE key exchange (a recorded session stays secret when a key
// leaks later) and AEAD ciphers only. Go's own defaults still include the
// CBC-SHA1 suites, which scanners flag (LUCKY13); Go orders these by the
// hardware's AES support.
var forwardSecretSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// cipherSuites resolves cipher_suites to TLS 1.2 suite IDs; none gives
// forwardSecretSuites. TLS 1.3 suites are refused, not skipped: Go always
// enables all of them, and a list of only those would leave every TLS 1.2
// suite on.
func cipherSuites(t *config.Tunnel) ([]uint16, error) {
	c := tlsBlock(t)
	if len(c.CipherSuites) == 0 {
		return slices.Clone(forwardSecretSuites), nil
	}
	var ids []uint16
	for _, n := range c.CipherSuites {
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
	for _, n := range tlsBlock(t).Curves {
		if err := config.CheckCurve(n); err != nil {
			return nil, fieldError(t, "tls.curves", err)
		}
		id, _ := config.CurveID(n)
		ids = append(ids, id)
	}
	return ids, nil
}
