package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/passtunnel/passtunnel/config"
)

// ServerTLSConfig is Server without the verdict: the config alone.
func (m *Manager) ServerTLSConfig(t *config.Tunnel) (*tls.Config, error) {
	return configOf(m.Server(t))
}

// ClientTLSConfig is Client without the verdict: the config alone.
func (m *Manager) ClientTLSConfig(t *config.Tunnel, targetHost string) (*tls.Config, error) {
	return configOf(m.Client(t, targetHost))
}

// Server builds the endpoint of a server tunnel, whatever its identity:
// certificate files (followed for hot reload), a self-signed certificate,
// ACME, or the passphrase-derived node certificate and cluster trust.
func (m *Manager) Server(t *config.Tunnel) (*Endpoint, error) {
	if t.ACME != nil {
		return m.acmeServerEndpoint(t)
	}
	if t.TLS != nil && t.TLS.SelfSigned && !t.Passphrase.IsSet() {
		return m.selfSignedServerEndpoint(t)
	}
	if !t.Passphrase.IsSet() {
		return m.fileServerEndpoint(t)
	}
	id, cfg, err := m.passphraseSetup(t, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return id.node.certificate() }
	// RequireAnyClientCert makes crypto/tls insist on a certificate but
	// leaves the verification to VerifyConnection, which also runs on
	// resumed sessions: a ticket never bypasses the CA check.
	cfg.ClientAuth = tls.RequireAnyClientCert
	if resumes(t) {
		// Without resumption no ticket is made or opened, so the keys
		// derived from the seed are never needed.
		resumeGuard{own: id.node.certificate, margin: resumeMargin(m.validity), now: m.now,
			lifetime: sessionLifetime(t), noTLS12: true}.
			apply(cfg, id.tickets)
	}
	return id.endpoint(cfg), nil
}

// Client builds the endpoint of a client tunnel: certificate files
// (followed for hot reload) or the passphrase's node certificate and
// cluster trust. targetHost is the name the server is verified against
// (files), or only names the session for resumption (passphrase: peers are
// not checked by name, every node is a peer).
func (m *Manager) Client(t *config.Tunnel, targetHost string) (*Endpoint, error) {
	if t.ACME != nil {
		return nil, refuseWithACME(t) // a server identity: refused in client mode
	}
	if !t.Passphrase.IsSet() {
		return m.fileClientEndpoint(t, targetHost)
	}
	id, cfg, err := m.passphraseSetup(t, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return id.node.certificate() }
	// InsecureSkipVerify only turns off crypto/tls's own check, which would
	// use the system roots and a host name. VerifyConnection then verifies
	// the chain against the cluster CAs alone, on every handshake, resumed
	// or not, and fails it otherwise: nothing is skipped.
	cfg.InsecureSkipVerify = true
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
	return id.endpoint(cfg), nil
}

// passphraseIdentity is what a passphrase tunnel's config is built from.
type passphraseIdentity struct {
	node    *nodeIdentity
	tickets *ticketer // of the current passphrase
	// verify checks peers against the CAs of passphrase and
	// previous_passphrases, then allow { }.
	verify *verification
}

// endpoint pairs cfg with id's verification and a node's handshake bound.
func (id *passphraseIdentity) endpoint(cfg *tls.Config) *Endpoint {
	e := endpoint(cfg, id.verify)
	e.MaxHandshakeBytes = nodeHandshakeBytes
	return e
}

// passphraseSetup checks the policy, derives the CAs of passphrase and of
// every previous_passphrases entry, and returns them with a base config
// holding t.TLS's versions, suites, curves and ALPN. Peers are verified
// for usage: client or server authentication.
func (m *Manager) passphraseSetup(t *config.Tunnel, usage x509.ExtKeyUsage) (*passphraseIdentity, *tls.Config, error) {
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
	cas := []*ClusterCA{cur.ca}
	for i, p := range t.PreviousPassphrases {
		prev, err := m.cluster(p.Reveal(), cluster)
		if err != nil {
			return nil, nil, fieldError(t, "previous_passphrases", fmt.Errorf("element %d: %w", i+1, err))
		}
		if !slices.Contains(cas, prev.ca) { // the Manager gives each pair one *ClusterCA
			cas = append(cas, prev.ca)
		}
	}
	cfg, err := baseConfig(t)
	if err != nil {
		return nil, nil, err
	}
	cfg.Time = m.now
	allow, err := compileAllow(t)
	if err != nil {
		return nil, nil, err
	}
	v := &verification{chain: nodeChains(cas, usage, m.now), allow: allow}
	return &passphraseIdentity{node: m.nodeFor(cas), tickets: cur.tickets, verify: v}, cfg, nil
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
