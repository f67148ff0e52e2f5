package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// identitySource is one kind of identity a tunnel can have: certificate
// files, a passphrase, a self-signed certificate, ACME. The Manager makes
// one for each endpoint it builds (see sources), asks it for the server or
// the client side once, and the Endpoint keeps it: from then on the
// source answers for what it built, until released.
type identitySource interface {
	// server builds the endpoint of server tunnel t.
	server(t *config.Tunnel) (*Endpoint, error)
	// client builds the endpoint of client tunnel t, which verifies its
	// server under targetHost, or refuses: a server-only identity.
	client(t *config.Tunnel, targetHost string) (*Endpoint, error)
	// expiry is the NotAfter of the certificate presented now: the zero
	// time when none is presented by design, an error when one must be
	// and there is none yet (the endpoint is not ready).
	expiry() (time.Time, error)
	// release gives back what the endpoint held: files followed, renewals
	// run for it. Also called when a build failed half-way.
	release()
}

// starter is a source that needs the tunnel's bound listener (ACME: the CA
// validates the domain on it). See Endpoint.Listening.
type starter interface {
	listening(addr net.Addr) error
}

// sources chooses a tunnel's identity: the first entry whose use matches,
// in this order. acme and self_signed come first: their tunnels have a tls
// block too, which alone would read as certificate files. A new kind of
// identity is a file with its source type and one line here.
var sources = []struct {
	use  func(t *config.Tunnel) bool
	make func(m *Manager) identitySource
}{
	{func(t *config.Tunnel) bool { return t.ACME != nil }, newACMESource},
	{func(t *config.Tunnel) bool { return t.TLS != nil && t.TLS.SelfSigned && !t.Passphrase.IsSet() }, newSelfSignedSource},
	{func(t *config.Tunnel) bool { return t.SPIFFE != nil }, newSPIFFESource},
	{func(t *config.Tunnel) bool { return t.Passphrase.IsSet() }, newPassphraseSource},
	{func(*config.Tunnel) bool { return true }, newFilesSource},
}

// Server builds the endpoint of a server tunnel, whatever its identity:
// certificate files (followed for hot reload), a self-signed certificate,
// ACME, or the passphrase-derived node certificate and cluster trust.
func (m *Manager) Server(t *config.Tunnel) (*Endpoint, error) {
	e, err := m.build(t, func(s identitySource) (*Endpoint, error) { return s.server(t) })
	if e != nil {
		e.server = true
	}
	return e, err
}

// Client builds the endpoint of a client tunnel: certificate files
// (followed for hot reload) or the passphrase's node certificate and
// cluster trust. targetHost is the name the server is verified against
// (files), or only names the session for resumption (passphrase: peers are
// not checked by name, every node is a peer).
func (m *Manager) Client(t *config.Tunnel, targetHost string) (*Endpoint, error) {
	return m.build(t, func(s identitySource) (*Endpoint, error) { return s.client(t, targetHost) })
}

// build makes t's source and lets side build the endpoint, which then
// keeps the source; a failed build gives back what it held so far.
func (m *Manager) build(t *config.Tunnel, side func(identitySource) (*Endpoint, error)) (*Endpoint, error) {
	var src identitySource
	for _, s := range sources {
		if s.use(t) {
			src = s.make(m)
			break
		}
	}
	e, err := side(src)
	if err != nil || e == nil {
		src.release()
		return nil, err
	}
	e.src = src
	return e, nil
}

// side is what tells the two ends of a handshake apart for an identity:
// the hook by which crypto/tls asks for the certificate to present, and
// the usage the peer's certificate must allow.
type side bool

const (
	serverSide side = true
	clientSide side = false
)

// present makes cfg present own's certificate at every handshake.
func (s side) present(cfg *tls.Config, own func() (*tls.Certificate, error)) {
	if s == serverSide {
		cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return own() }
		return
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return own() }
}

// presents reports whether cfg already presents a certificate through a
// hook (ACME's, a reloaded pair's) rather than a fixed one.
func (s side) presents(cfg *tls.Config) bool {
	if s == serverSide {
		return cfg.GetCertificate != nil
	}
	return cfg.GetClientCertificate != nil
}

// peerUsage is what the certificate of the other end must be for.
func (s side) peerUsage() x509.ExtKeyUsage {
	if s == serverSide {
		return x509.ExtKeyUsageClientAuth
	}
	return x509.ExtKeyUsageServerAuth
}

// staticCertificate presents the fixed certificate of cfg, nil for none.
func staticCertificate(cfg *tls.Config) func() (*tls.Certificate, error) {
	if cfg == nil || len(cfg.Certificates) == 0 {
		return nil
	}
	cert := &cfg.Certificates[0]
	return func() (*tls.Certificate, error) { return cert, nil }
}

// expiryOf is the NotAfter of own's certificate now: the zero time for no
// certificate (own nil, or none yet by design), own's error if it has one.
func expiryOf(own func() (*tls.Certificate, error)) (time.Time, error) {
	leaf, err := presentedLeaf(own)
	if leaf == nil {
		return time.Time{}, err
	}
	return leaf.NotAfter, nil
}

// presentedLeaf is the leaf of own's certificate now: nil for no certificate (own
// nil, or none yet by design), own's error if it has one.
func presentedLeaf(own func() (*tls.Certificate, error)) (*x509.Certificate, error) {
	if own == nil {
		return nil, nil
	}
	cert, err := own()
	if err != nil {
		return nil, err
	}
	if cert == nil || len(cert.Certificate) == 0 {
		return nil, nil
	}
	if cert.Leaf != nil {
		return cert.Leaf, nil
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("parse the certificate presented: %w", err)
	}
	return leaf, nil
}
