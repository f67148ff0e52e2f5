package pki

import (
	"crypto/tls"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testlog"
)

// Passphrases of the tests: strong enough for the policy.
const (
	pass1 = "alpha bravo charlie delta echo"
	pass2 = "foxtrot golf hotel india juliet"
)

// derived caches DeriveClusterCA across the tests of the package: each
// derivation costs 64 MiB and, under -race, seconds. Managers built by
// newTestManager use it; DeriveClusterCA itself is tested uncached.
var derived struct {
	sync.Mutex
	m map[[2]string]*ClusterCA
}

func cachedDerive(passphrase, cluster string) (*ClusterCA, error) {
	derived.Lock()
	defer derived.Unlock()
	k := [2]string{passphrase, cluster}
	if ca, ok := derived.m[k]; ok {
		return ca, nil
	}
	ca, err := DeriveClusterCA(passphrase, cluster)
	if err != nil {
		return nil, err
	}
	if derived.m == nil {
		derived.m = map[[2]string]*ClusterCA{}
	}
	derived.m[k] = ca
	return ca, nil
}

func derivedCA(t testing.TB, passphrase, cluster string) *ClusterCA {
	t.Helper()
	ca, err := cachedDerive(passphrase, cluster)
	if err != nil {
		t.Fatalf("derive: %v", err)
	}
	return ca
}

func newTestManager(opts Options) *Manager {
	m := NewManager(opts)
	m.derive = cachedDerive
	return m
}

// ptunnel is a passphrase tunnel of cluster "test" as config would make it.
func ptunnel(mode config.Mode, passphrase string, previous ...string) *config.Tunnel {
	t := &config.Tunnel{
		Name: "redis",
		Pos:  config.Pos{File: "x.hcl", Line: 1, Column: 1},
		Fields: map[string]config.Pos{
			"passphrase":           {File: "x.hcl", Line: 5, Column: 3},
			"previous_passphrases": {File: "x.hcl", Line: 6, Column: 3},
		},
		Mode:       mode,
		Passphrase: config.NewSecret(passphrase, `env("P")`),
		Cluster:    "test",
	}
	for _, p := range previous {
		t.PreviousPassphrases = append(t.PreviousPassphrases, config.NewSecret(p, `env("P")`))
	}
	return t
}

func serverConfig(t *testing.T, m *Manager, tun *config.Tunnel) *tls.Config {
	t.Helper()
	cfg, err := m.ServerTLSConfig(tun)
	if err != nil {
		t.Fatalf("ServerTLSConfig: %v", err)
	}
	return cfg
}

func clientConfig(t *testing.T, m *Manager, tun *config.Tunnel) *tls.Config {
	t.Helper()
	cfg, err := m.ClientTLSConfig(tun, "127.0.0.1")
	if err != nil {
		t.Fatalf("ClientTLSConfig: %v", err)
	}
	return cfg
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func textLogger(w *testlog.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
