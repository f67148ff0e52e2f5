package pki

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"

	"github.com/passtunnel/passtunnel/config"
)

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
// as the other end of sd: client or server authentication.
func (m *Manager) passphraseSetup(t *config.Tunnel, sd side) (*passphraseIdentity, *tls.Config, error) {
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
	v, err := denyAndAllow(t)
	if err != nil {
		return nil, nil, err
	}
	v.chain = nodeChains(cas, sd.peerUsage(), m.now)
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
		{c.PKCS12 != "", "tls.pkcs12"},
		{c.Verify == config.VerifyPin, "tls.verify"}, {c.LegacyCommonName, "tls.legacy_common_name"},
		{len(c.CRL) > 0, "tls.crl"},
	} {
		if f.set {
			return fieldError(t, f.field, errors.New(
				"cannot be combined with passphrase, which sets both identity and trust (peers must present a node certificate of the cluster)"))
		}
	}
	return nil
}
