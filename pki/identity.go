package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"
)

// IdentityExpiry is the NotAfter of the certificate that cfg, a config
// built by ServerTLSConfig or ClientTLSConfig, presents at a handshake
// right now, whatever its source: certificate files (as last hot
// reloaded), a passphrase-derived node certificate (as last renewed), a
// self-signed certificate, or an ACME certificate (the earliest of its
// domains'). It is read from cfg rather than kept by tunnel name, so that
// it describes the config a tunnel serves with, also across config
// reloads.
//
// A config that presents no certificate by design (a client tunnel
// without tls.cert) gives the zero time and no error. A config that must
// present one but has none yet gives an error saying why: an ACME
// certificate not obtained yet, a node certificate that could not be
// issued. Both are cheap: nothing is read from disk.
func (m *Manager) IdentityExpiry(cfg *tls.Config) (time.Time, error) {
	if cfg == nil {
		return time.Time{}, nil
	}
	// certmagic's GetCertificate wants a ClientHello from a handshake; its
	// cache answers the question directly.
	if st := m.acmeServing(cfg); st != nil {
		return st.expiry()
	}
	cert, err := presentedCertificate(cfg)
	if err != nil {
		return time.Time{}, err
	}
	if cert == nil || len(cert.Certificate) == 0 {
		return time.Time{}, nil
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return time.Time{}, fmt.Errorf("parse the certificate presented: %w", err)
		}
	}
	return leaf.NotAfter, nil
}

// presentedCertificate is the certificate cfg presents at a handshake right
// now (nil if none), for configs whose certificate does not depend on the
// ClientHello: every kind but ACME.
func presentedCertificate(cfg *tls.Config) (*tls.Certificate, error) {
	switch {
	case cfg.GetCertificate != nil: // files (hot reload), passphrase
		// probeConn: a config released meanwhile (a reload replaced it)
		// is no longer known as acme, and certmagic reads the addresses.
		return cfg.GetCertificate(&tls.ClientHelloInfo{Conn: probeConn{}})
	case cfg.GetClientCertificate != nil:
		return cfg.GetClientCertificate(&tls.CertificateRequestInfo{})
	case len(cfg.Certificates) > 0: // self-signed, or files with hot reload off
		return &cfg.Certificates[0], nil
	}
	return nil, nil
}

// acmeServing is the ACME state whose certificates cfg serves, or nil.
func (m *Manager) acmeServing(cfg *tls.Config) *acmeState {
	m.mu.Lock()
	defer m.mu.Unlock()
	key, ok := m.acme.byCfg[cfg]
	if !ok {
		return nil
	}
	return m.acme.states[key]
}

// expiry is the earliest NotAfter among the newest certificates of st's
// domains, or an error naming a domain that has no certificate yet (the
// CA has not issued it, or certmagic is still loading it from storage).
func (st *acmeState) expiry() (time.Time, error) {
	var earliest time.Time
	for _, d := range st.domains {
		var newest time.Time
		for _, c := range st.cache.AllMatchingCertificates(strings.ToLower(d)) {
			if c.Leaf != nil && c.Leaf.NotAfter.After(newest) {
				newest = c.Leaf.NotAfter
			}
		}
		if newest.IsZero() {
			return time.Time{}, fmt.Errorf("acme: no certificate for %s yet", d)
		}
		if earliest.IsZero() || newest.Before(earliest) {
			earliest = newest
		}
	}
	return earliest, nil
}

// probeConn is the connection of the ClientHello that IdentityExpiry makes
// up. Only its addresses may be read; anything else panics, as nothing
// should do it during GetCertificate.
type probeConn struct{ net.Conn }

func (probeConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4zero} }
func (probeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }
