package pki

import "github.com/passtunnel/passtunnel/config"

// selfSignedSource is the identity of tls.self_signed: a certificate made
// on first use and kept in the state directory (see Manager.selfSigned),
// with clients verified as for certificate files (tls.ca hot reloaded,
// tls.pin, allow { }). It is a server identity; a client tunnel is built
// from its files, as the rest of its tls block says.
type selfSignedSource struct{ *filesSource }

func newSelfSignedSource(m *Manager) identitySource { return selfSignedSource{newFiles(m)} }

func (s selfSignedSource) server(t *config.Tunnel) (*Endpoint, error) {
	id, err := s.m.selfSigned(t)
	if err != nil {
		return nil, err
	}
	e, err := serverEndpoint(t, &id, s.m.log)
	return s.followServer(t, e, err)
}
