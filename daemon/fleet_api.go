package daemon

import (
	"log/slog"
	"net"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// NewFleet makes a fleet that runs tunnels the caller starts itself, with
// no config file to reload and no admin endpoint: what the demo runs.
// stateDir is where self-signed certificates are kept ("" for none).
func NewFleet(log *slog.Logger, level *slog.LevelVar, stateDir string) (*Fleet, error) {
	return newFleet(log, level, stateDir)
}

// Start builds every tunnel of cfg, then listens and serves them all.
func (f *Fleet) Start(cfg *config.Config) error { return f.start(cfg) }

// Addr is where the running tunnel named name listens, nil if none does.
func (f *Fleet) Addr(name string) net.Addr {
	for _, t := range f.tunnels {
		if t.cfg.Name == name {
			return t.tunnel.Addr()
		}
	}
	return nil
}

// ClusterCA is the CA a passphrase derives, from the fleet's cache.
func (f *Fleet) ClusterCA(passphrase, cluster string) (*pki.ClusterCA, error) {
	return f.pki.ClusterCA(passphrase, cluster)
}

// Wait serves until SIGTERM/SIGINT, then drains every tunnel.
func (f *Fleet) Wait() { f.wait() }

// Close stops every tunnel at once, dropping open connections.
func (f *Fleet) Close() {
	closeAll(f.tunnels)
	f.closeGroups()
}
