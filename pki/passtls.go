package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// ServerTLSConfig is the package-level ServerTLSConfig for tunnels with
// certificate files, and the passphrase-derived identity and trust for
// tunnels with a passphrase.
func (m *Manager) ServerTLSConfig(t *config.Tunnel) (*tls.Config, error) {
	if t.ACME != nil {
		return m.acmeServerTLSConfig(t)
	}
	if t.TLS != nil && t.TLS.SelfSigned && !t.Passphrase.IsSet() {
		return m.selfSignedServerTLSConfig(t)
	}
	if !t.Passphrase.IsSet() {
		return m.fileServerTLSConfig(t)
	}
	id, cfg, err := m.passphraseSetup(t)
	if err != nil {
		return nil, err
	}
	cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return id.node.certificate() }
	// RequireAnyClientCert makes crypto/tls insist on a certificate but
	// leaves the verification to VerifyConnection, which also runs on
	// resumed sessions: a ticket never bypasses the CA check.
	cfg.ClientAuth = tls.RequireAnyClientCert
	cfg.VerifyConnection = allOf(verifyPeer(id.roots, x509.ExtKeyUsageClientAuth, m.now), id.allow)
	if resumes(t) {
		// Without resumption no ticket is made or opened, so the keys
		// derived from the seed are never needed.
		resumeGuard{own: id.node.certificate, margin: resumeMargin(m.validity), now: m.now}.
			apply(cfg, id.tickets.wrap, id.tickets.unwrap)
	}
	return cfg, nil
}

// ClientTLSConfig is the package-level ClientTLSConfig for tunnels with
// certificate files, and the passphrase-derived identity and trust for
// tunnels with a passphrase. targetHost only names the session for
// resumption: peers are not checked by name, every node is a peer.
func (m *Manager) ClientTLSConfig(t *config.Tunnel, targetHost string) (*tls.Config, error) {
	if t.ACME != nil {
		return nil, refuseWithACME(t) // a server identity: refused in client mode
	}
	if !t.Passphrase.IsSet() {
		return m.fileClientTLSConfig(t, targetHost)
	}
	id, cfg, err := m.passphraseSetup(t)
	if err != nil {
		return nil, err
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return id.node.certificate() }
	// InsecureSkipVerify only turns off crypto/tls's own check, which would
	// use the system roots and a host name. VerifyConnection then verifies
	// the full chain against the cluster CAs alone, on every handshake,
	// resumed or not, and fails it otherwise: nothing is skipped.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = allOf(verifyPeer(id.roots, x509.ExtKeyUsageServerAuth, m.now), id.allow)
	if resumes(t) {
		cfg.ClientSessionCache = newSessionCache(id.node.certificate)
	}
	// The session cache is keyed by ServerName: a stable one lets each
	// client -> server pair resume.
	cfg.ServerName = verifyHost(targetHost)
	if t.TLS != nil && t.TLS.ServerName != "" {
		cfg.ServerName = t.TLS.ServerName
	}
	if cfg.ServerName == "" {
		cfg.ServerName = clusterOf(t) + ".passtunnel.internal"
	}
	return cfg, nil
}

// passphraseIdentity is what a passphrase tunnel's config is built from.
type passphraseIdentity struct {
	node    *nodeIdentity
	roots   *x509.CertPool // the CAs of passphrase and previous_passphrases
	tickets *ticketer      // of the current passphrase
	allow   peerCheck      // allow { } narrowing the cluster's nodes; nil = all of them
}

// passphraseSetup checks the policy, derives the CAs of passphrase and of
// every previous_passphrases entry, and returns them with a base config
// holding t.TLS's versions, suites, curves and ALPN.
func (m *Manager) passphraseSetup(t *config.Tunnel) (*passphraseIdentity, *tls.Config, error) {
	if err := refuseWithPassphrase(t); err != nil {
		return nil, nil, err
	}
	cluster := clusterOf(t)
	if !dnsLabel.MatchString(cluster) {
		return nil, nil, fieldError(t, "cluster", fmt.Errorf(
			"invalid cluster name %q: use lower-case letters, digits and '-'", cluster))
	}
	warn := func(field string, err error) { m.warnWeak(t.Name, field, err) }
	if err := checkTunnelPassphrases(t, warn); err != nil {
		return nil, nil, err
	}
	if cluster == DefaultCluster {
		m.warnDefaultCluster(t.Name)
	}
	cur, err := m.cluster(t.Passphrase.Reveal(), cluster)
	if err != nil {
		return nil, nil, fieldError(t, "passphrase", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cur.ca.Cert)
	cas := []*ClusterCA{cur.ca}
	for i, p := range t.PreviousPassphrases {
		prev, err := m.cluster(p.Reveal(), cluster)
		if err != nil {
			return nil, nil, fieldError(t, "previous_passphrases", fmt.Errorf("element %d: %w", i+1, err))
		}
		if !slices.Contains(cas, prev.ca) { // the Manager gives each pair one *ClusterCA
			cas = append(cas, prev.ca)
			roots.AddCert(prev.ca.Cert)
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.TLS != nil {
		if cfg, err = baseConfig(t); err != nil {
			return nil, nil, err
		}
	}
	cfg.Time = m.now
	allow, err := compileAllow(t)
	if err != nil {
		return nil, nil, err
	}
	return &passphraseIdentity{node: m.nodeFor(cas), roots: roots, tickets: cur.tickets, allow: allow.verifier()}, cfg, nil
}

func clusterOf(t *config.Tunnel) string {
	if t.Cluster == "" {
		return DefaultCluster
	}
	return t.Cluster
}

// refuseWithPassphrase stops tls settings that a passphrase overrides from
// being silently ignored: the passphrase is the identity and the trust.
// config refuses the same list first (validate_passphrase.go), each at its
// position; this is the backstop for tunnels that bypass config, and
// TestPassphraseRefusalsMatchConfig keeps the two lists in step.
func refuseWithPassphrase(t *config.Tunnel) error {
	c := t.TLS
	if c == nil {
		return nil
	}
	for _, f := range []struct {
		set   bool
		field string
	}{
		{c.Cert != "", "tls.cert"}, {c.Key != "", "tls.key"}, {c.CA != "", "tls.ca"},
		{len(c.Pin) > 0, "tls.pin"}, {c.SystemRoots, "tls.system_roots"},
		{c.InsecureSkipVerify, "tls.insecure_skip_verify"}, {c.SelfSigned, "tls.self_signed"},
		{c.ClientAuth != "" && c.ClientAuth != "require", "tls.client_auth"},
	} {
		if f.set {
			return fieldError(t, f.field, errors.New(
				"cannot be combined with passphrase, which sets both identity and trust (peers must present a node certificate of the cluster)"))
		}
	}
	return nil
}

// verifyPeer checks the peer's certificate against roots, the cluster CAs,
// and nothing else: no system roots, no names (every node of the cluster is
// a peer; allow rules narrow that elsewhere).
//
// The handshake proved the peer holds the key of its first certificate.
// Any certificate of the chain for that same key may be the one a root
// signed: a node in the middle of a rotation sends one per passphrase it
// knows (see nodeIdentity). Nothing else of the chain is used, so there
// are no intermediates either: cluster CAs have path length zero.
func verifyPeer(roots *x509.CertPool, usage x509.ExtKeyUsage, now func() time.Time) func(tls.ConnectionState) error {
	cache := newVerifyCache()
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("peer sent no certificate (both ends of a passphrase tunnel must present one)")
		}
		at := now()
		return cache.check(roots, cs.PeerCertificates, at, func() ([]*x509.Certificate, error) {
			return verifyNodeChain(cs.PeerCertificates, x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}})
		})
	}
}

// verifyNodeChain returns the first chain that one of certs with the
// leaf's key builds to a root.
func verifyNodeChain(certs []*x509.Certificate, opts x509.VerifyOptions) ([]*x509.Certificate, error) {
	leaf := certs[0]
	var firstErr error
	for _, c := range certs {
		if !bytes.Equal(c.RawSubjectPublicKeyInfo, leaf.RawSubjectPublicKeyInfo) {
			continue
		}
		chains, err := c.Verify(opts)
		if err == nil {
			return chains[0], nil
		}
		var unknown x509.UnknownAuthorityError
		if firstErr == nil || !errors.As(err, &unknown) {
			firstErr = err // a reason other than "unknown CA" says more
		}
	}
	return nil, peerError(leaf, firstErr)
}

func peerError(leaf *x509.Certificate, err error) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("peer certificate %q is not signed by this cluster's CA (wrong passphrase or cluster?): %w",
			leaf.Subject.CommonName, err)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Errorf("peer certificate %q of this cluster is expired or not yet valid (clock skew?): %w",
			leaf.Subject.CommonName, err)
	default:
		return fmt.Errorf("peer certificate %q: %w", leaf.Subject.CommonName, err)
	}
}
