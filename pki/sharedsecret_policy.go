package pki

import (
	"sync"

	"github.com/passtunnel/passtunnel/config"
)

// SharedSecret is the proof key of t's shared_secret, nil when it has
// none. The secret must meet the passphrase policy (or the tunnel opts out
// with allow_weak_passphrase, which logs a warning once), and is stretched
// once per process for each (secret, cluster), however many tunnels and
// reloads use it: the stretch costs what a passphrase derivation does.
func (m *Manager) SharedSecret(t *config.Tunnel) (*SharedSecretKey, error) {
	if !t.SharedSecret.IsSet() {
		return nil, nil
	}
	warn := func(field string, err error) { m.warnWeak(t.Name, field, err) }
	if err := checkTunnelSecret(t, "shared_secret", "", t.SharedSecret, warn); err != nil {
		return nil, err
	}
	secret := t.SharedSecret.Reveal()
	cluster := clusterOf(t)
	key := m.keyOf(secret, "shared-secret\x00"+cluster) // no cluster name holds a NUL: no collision with a passphrase's key
	m.mu.Lock()
	load, ok := m.secrets[key]
	if !ok {
		load = sync.OnceValues(func() (*SharedSecretKey, error) { return m.stretch(secret, cluster) })
		m.secrets[key] = load
	}
	m.mu.Unlock()
	k, err := load()
	if err != nil {
		return nil, fieldError(t, "shared_secret", err)
	}
	return k, nil
}
