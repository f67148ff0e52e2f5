package pki

import (
	"crypto/tls"

	"github.com/passtunnel/passtunnel/config"
)

// The tests' shorthands for a config alone, or an endpoint built from
// files read once. The binary always goes through a Manager and keeps the
// Endpoint, its handle.

// ServerTLSConfig is the terminating config of server tunnel t.
func ServerTLSConfig(t *config.Tunnel) (*tls.Config, error) {
	return configOf(serverEndpoint(t, nil, nil))
}

// ServerEndpoint is the endpoint of server tunnel t.
func ServerEndpoint(t *config.Tunnel) (*Endpoint, error) { return serverEndpoint(t, nil, nil) }

// ClientTLSConfig is the dialing config of client tunnel t.
func ClientTLSConfig(t *config.Tunnel, targetHost string) (*tls.Config, error) {
	return configOf(clientEndpoint(t, targetHost, nil))
}

// ClientEndpoint is the endpoint of client tunnel t.
func ClientEndpoint(t *config.Tunnel, targetHost string) (*Endpoint, error) {
	return clientEndpoint(t, targetHost, nil)
}

// ServerTLSConfig is m.Server without the handle, never released.
func (m *Manager) ServerTLSConfig(t *config.Tunnel) (*tls.Config, error) {
	return configOf(m.Server(t))
}

// ClientTLSConfig is m.Client without the handle, never released.
func (m *Manager) ClientTLSConfig(t *config.Tunnel, targetHost string) (*tls.Config, error) {
	return configOf(m.Client(t, targetHost))
}

func configOf(e *Endpoint, err error) (*tls.Config, error) {
	if err != nil {
		return nil, err
	}
	return e.Config, nil
}
