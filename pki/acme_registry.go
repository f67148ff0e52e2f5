package pki

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// acmeRegistry is the Manager's ACME states, guarded by Manager.mu. Each
// endpoint that serves a state holds one reference to it (acmeSource).
type acmeRegistry struct {
	states map[string]*acmeState // by acmeKey
}

// acmeFor returns the ACME state of t, made on first use and kept by the
// Manager: a config reload that leaves the acme block (and listen) alone
// keeps the certificates, the account and the renewal schedule.
func (m *Manager) acmeFor(t *config.Tunnel) (*acmeState, string, error) {
	roots, rootsDER, err := acmeRoots(t)
	if err != nil {
		return nil, "", err
	}
	storage, err := m.acmeStorage(t)
	if err != nil {
		return nil, "", err
	}
	key := acmeKey(t, storage, rootsDER)
	m.mu.Lock()
	st := m.acme.states[key]
	m.mu.Unlock()
	if st != nil {
		return st, key, nil
	}
	st = newACMEState(t, roots, storage, m.log)
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev := m.acme.states[key]; prev != nil { // built concurrently: keep one
		st.stop()
		return prev, key, nil
	}
	if m.acme.states == nil {
		m.acme.states = map[string]*acmeState{}
	}
	m.acme.states[key] = st
	return st, key, nil
}

// acmeKey identifies what an acmeState was built from.
func acmeKey(t *config.Tunnel, storage string, rootsDER []byte) string {
	a := t.ACME
	h := sha256.New()
	for _, s := range []string{t.Name, t.Listen.String(), strings.Join(a.Domains, ","), a.Email, a.CA, storage} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	h.Write(rootsDER)
	return hex.EncodeToString(h.Sum(nil))
}

// acmeStorage is acme.storage, by default "acme" in the state directory.
func (m *Manager) acmeStorage(t *config.Tunnel) (string, error) {
	if t.ACME.Storage != "" {
		return t.ACME.Storage, nil
	}
	dir, err := m.stateDir()
	if err != nil {
		return "", fieldError(t, "acme.storage", fmt.Errorf("not set, and %w", err))
	}
	return filepath.Join(dir, "acme"), nil
}

// useACME counts one more endpoint serving st, the state of key, unless
// the Manager let go of it meanwhile (Close); it reports whether it did.
func (m *Manager) useACME(key string, st *acmeState) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.acme.states[key] != st {
		return false
	}
	st.refs++
	return true
}

// releaseACME counts one endpoint less serving st, the state of key, and
// stops its renewals when it was the last.
func (m *Manager) releaseACME(key string, st *acmeState) {
	m.mu.Lock()
	st.refs--
	last := st.refs == 0 && m.acme.states[key] == st
	if last {
		delete(m.acme.states, key)
	}
	m.mu.Unlock()
	if last {
		st.stop()
	}
}

// stopACME ends every ACME renewal, for Close.
func (m *Manager) stopACME() {
	m.mu.Lock()
	states := m.acme.states
	m.acme = acmeRegistry{}
	m.mu.Unlock()
	for _, st := range states {
		st.stop()
	}
}
