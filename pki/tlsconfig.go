// Package pki is every source of identity and trust of passtunnel: it turns
// a tunnel's config into an Endpoint, a ready *tls.Config for proxy and the
// handle its caller keeps on the identity behind it (see identitySource).
// Every error names the tunnel and the config field (with its
// file:line:col) that caused it.
package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// serverEndpoint is the endpoint of server tunnel t from its files, read
// once (the files source follows them), presenting id, when set, instead of
// tls.cert and tls.key: the self-signed certificate a Manager keeps.
func serverEndpoint(t *config.Tunnel, id *tls.Certificate, log *slog.Logger) (*Endpoint, error) {
	if t.Passphrase.IsSet() {
		return nil, errNeedsManager(t)
	}
	c := t.TLS
	if c == nil {
		return nil, fmt.Errorf("%s: server mode needs a tls block with cert and key, and there is none", tunnelPrefix(t, "tls"))
	}
	if c.SelfSigned && id == nil {
		return nil, fieldError(t, "tls.self_signed", errors.New("kept in the state directory: built by pki.Manager, not by the package-level functions"))
	}
	if !filesOf(c).set() && id == nil {
		return nil, fieldError(t, "tls.cert", errors.New("required in server mode"))
	}
	cfg, err := baseConfig(t)
	if err != nil {
		return nil, err
	}
	if id == nil {
		kp, err := filesOf(c).load()
		if err != nil {
			return nil, tunnelFileError(t, err)
		}
		id = &kp
	}
	cfg.Certificates = []tls.Certificate{*id}
	v, err := clientAuth(t, cfg, log)
	if err != nil {
		return nil, err
	}
	return endpoint(cfg, v), nil
}

// endpoint installs v in cfg and pairs them.
func endpoint(cfg *tls.Config, v *verification) *Endpoint {
	v.install(cfg)
	return &Endpoint{Config: cfg, verify: v}
}

// clientAuth sets how a server asks for client certificates and returns
// how it verifies them, nil for client_auth = "none". crypto/tls only asks
// (RequestClientCert, RequireAnyClientCert) and never verifies: the
// verification, CA chain, pin and allow { } alike, is the Endpoint's, in
// VerifyConnection, so it runs on resumed sessions too and names the peer.
func clientAuth(t *config.Tunnel, cfg *tls.Config, log *slog.Logger) (*verification, error) {
	mode := t.TLS.ClientAuth
	switch mode {
	case "none":
		cfg.ClientAuth = tls.NoClientCert
		return nil, nil
	case "request":
		cfg.ClientAuth = tls.RequestClientCert
	case "", "require":
		mode = "require"
		cfg.ClientAuth = tls.RequireAnyClientCert
	default:
		return nil, fieldError(t, "tls.client_auth", fmt.Errorf("unknown value %q: want none, request or require", mode))
	}
	// Without a CA, Go would verify client certificates against the system
	// store: anyone with a public web certificate would get in.
	if t.TLS.CA == "" && len(t.TLS.Pin) == 0 {
		return nil, fieldError(t, "tls.client_auth", fmt.Errorf(
			"%q needs tls.ca, the CA that signs client certificates, or tls.pin (or set client_auth = \"none\")", mode))
	}
	if err := checkVerifyMode(t); err != nil {
		return nil, err
	}
	v, err := pinsAndAllow(t)
	if err != nil {
		return nil, err
	}
	v.optional = mode == "request"
	if v.revoked, err = staticCRLs(t, log); err != nil {
		return nil, err
	}
	if t.TLS.CA != "" {
		pool, err := LoadCertPool(t.TLS.CA)
		if err != nil {
			return nil, tunnelFileError(t, err)
		}
		// Only the names of the CAs go out (in the CertificateRequest,
		// by which clients choose the certificate they send).
		cfg.ClientCAs = pool
		v.chain = verifyChain(fixedPool(pool), "", x509.ExtKeyUsageClientAuth, time.Now)
	}
	return v, nil
}

// clientEndpoint builds the endpoint of a client-mode tunnel from its
// files, read once (the files source follows them): the server is
// verified against tls.ca and/or the system roots, under tls.server_name
// or else targetHost (an IP address is checked against the certificate's
// IP SANs).
func clientEndpoint(t *config.Tunnel, targetHost string, log *slog.Logger) (*Endpoint, error) {
	if t.Passphrase.IsSet() {
		return nil, errNeedsManager(t)
	}
	c := t.TLS
	if c == nil {
		return nil, fmt.Errorf("%s: client mode needs a tls block (tls.ca or system_roots = true) to verify the server, and there is none",
			tunnelPrefix(t, "tls"))
	}
	cfg, err := baseConfig(t)
	if err != nil {
		return nil, err
	}
	if err := setClientCert(t, cfg); err != nil {
		return nil, err
	}
	if err := checkVerifyMode(t); err != nil {
		return nil, err
	}
	roots, err := clientRoots(t)
	if err != nil {
		return nil, err
	}
	if roots == nil && !c.InsecureSkipVerify && len(c.Pin) == 0 {
		return nil, fieldError(t, "tls.ca", errors.New(
			"nothing to verify the server against: set tls.ca, tls.system_roots = true or tls.pin (insecure_skip_verify is for debugging only)"))
	}
	cfg.ServerName = c.ServerName
	if cfg.ServerName == "" {
		cfg.ServerName = verifyHost(targetHost)
	}
	if cfg.ServerName == "" && !c.InsecureSkipVerify {
		return nil, fieldError(t, "tls.server_name", errors.New(
			"the target has no host name to verify the server certificate against: set tls.server_name"))
	}
	// crypto/tls's own check is off in every case: the Endpoint's
	// verification replaces it (the same chain and name check, against
	// tls.ca and/or the system roots), runs on resumed sessions too, and
	// names the peer. With insecure_skip_verify nothing is verified.
	cfg.InsecureSkipVerify = true
	v, err := pinsAndAllow(t)
	if err != nil {
		return nil, err
	}
	if roots != nil {
		v.chain = serverChain(t, fixedPool(roots), cfg.ServerName, time.Now, log)
		if v.revoked, err = staticCRLs(t, log); err != nil {
			return nil, err
		}
	}
	if v.chain == nil && v.pins == nil && v.allow == nil && v.deny == nil {
		v = nil // insecure_skip_verify alone
	}
	// One cache per tunnel: its connections all go to one target, and a
	// resumed session skips the certificate work on both ends.
	// VerifyConnection still runs on resumed sessions.
	if resumes(t) {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	return endpoint(cfg, v), nil
}

func setClientCert(t *config.Tunnel, cfg *tls.Config) error {
	c := t.TLS
	if !filesOf(c).set() {
		if c.Key != "" {
			return fieldError(t, "tls.key", errors.New("set without tls.cert"))
		}
		return nil
	}
	kp, err := filesOf(c).load()
	if err != nil {
		return tunnelFileError(t, err)
	}
	cfg.Certificates = []tls.Certificate{kp}
	return nil
}

// clientRoots is the union of the system store and tls.ca, or nil when the
// tunnel sets neither.
func clientRoots(t *config.Tunnel) (*x509.CertPool, error) {
	c := t.TLS
	if !c.SystemRoots && c.CA == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if c.SystemRoots {
		sys, err := systemRoots(t)
		if err != nil {
			return nil, err
		}
		pool = sys
	}
	if c.CA != "" {
		certs, err := loadCerts(roleCA, c.CA)
		if err != nil {
			return nil, tunnelFileError(t, err)
		}
		for _, cert := range certs {
			pool.AddCert(cert)
		}
	}
	return pool, nil
}

// systemRoots is the system trust store of tls.system_roots: a copy, to
// which adding is safe.
func systemRoots(t *config.Tunnel) (*x509.CertPool, error) {
	sys, err := x509.SystemCertPool()
	if err != nil {
		return nil, fieldError(t, "tls.system_roots", fmt.Errorf("cannot load the system trust store: %w", err))
	}
	return sys, nil
}

// verifyHost turns a target host into the name crypto/tls verifies: no
// brackets, no port, no IPv6 zone (a zone would make the IP look like a DNS
// name and fail the IP SAN check).
func verifyHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(host, '%'); i >= 0 && net.ParseIP(host[:i]) != nil {
		host = host[:i]
	}
	return host
}

// errNeedsManager: a passphrase tunnel's CA is derived once per process
// and its node certificate renewed, which takes the state a Manager keeps.
func errNeedsManager(t *config.Tunnel) error {
	return fmt.Errorf("%s: passphrase tunnels are built by pki.Manager, not by the package-level functions", tunnelPrefix(t, "passphrase"))
}

// resumes reports whether t's connections may resume TLS sessions
// (tls.session_resumption, on unless turned off). SessionTicketsDisabled
// alone would stop resumption; the builders also leave out their session
// caches and ticket hooks, so that a tunnel that never resumes keeps no
// session state and derives no ticket keys.
func resumes(t *config.Tunnel) bool {
	return t.TLS == nil || !t.TLS.SessionResumptionDisabled
}

// sessionLifetime is tls.session_lifetime, the default for a tunnel built
// without config's defaults.
func sessionLifetime(t *config.Tunnel) time.Duration {
	if d := tlsBlock(t).SessionLifetime; d > 0 {
		return d
	}
	return config.DefaultSessionLifetime
}

// baseConfig holds what both modes share: versions, suites, curves, ALPN,
// and whether sessions resume. Every kind of identity starts from it, so
// SessionTicketsDisabled reaches them all: a server then neither issues
// nor accepts tickets, a client neither offers nor keeps them.
func baseConfig(t *config.Tunnel) (*tls.Config, error) {
	minV, maxV, err := versions(t)
	if err != nil {
		return nil, err
	}
	suites, err := cipherSuites(t)
	if err != nil {
		return nil, err
	}
	curveIDs, err := curvePrefs(t)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:       minV,
		MaxVersion:       maxV,
		CipherSuites:     suites,
		CurvePreferences: curveIDs,
		NextProtos:       slices.Clone(tlsBlock(t).ALPN),

		SessionTicketsDisabled: !resumes(t),
	}, nil
}

// checkVerifyMode is the backstop of config's checks of tls.verify, for
// tunnels built without config: "pin" checks tls.pin alone, so it needs
// pins and takes no CA.
func checkVerifyMode(t *config.Tunnel) error {
	c := tlsBlock(t)
	switch {
	case c.Verify != config.VerifyPin:
		return nil
	case len(c.Pin) == 0:
		return fieldError(t, "tls.verify", errors.New(`"pin" needs tls.pin`))
	case c.CA != "" || c.SystemRoots:
		return fieldError(t, "tls.verify", errors.New(`"pin" checks tls.pin alone: leave out tls.ca and tls.system_roots`))
	}
	return nil
}
