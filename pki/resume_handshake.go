package pki

import (
	"crypto/tls"
	"errors"
	"sync/atomic"
)

// guardEachHandshake applies g, a resumeGuard with sameOwn, to a server
// config whose certificate can change (files reloaded), per handshake:
// each handshake gets a config of its own that presents the certificate
// current when the handshake starts and tags the tickets it issues with
// that same certificate.
//
// A guard on cfg itself would tag each ticket with the certificate current
// when the ticket is written, after the handshake (with client
// certificates, a round trip after the server chose its own): a reload in
// between would mark a session made under the replaced certificate as made
// under the new one, and its client would then resume it, still seeing the
// old certificate, on every connection from then on.
//
// The tickets are sealed by tk, shared by every per-handshake config, so
// sessions resume from one handshake to the next. Every handshake that
// starts under the same certificate (and CA snapshot) shares one config:
// a connection keeps its config for life, and one each would add a
// kilobyte to every idle connection.
func guardEachHandshake(cfg *tls.Config, g resumeGuard, tk *ticketer) {
	inner := cfg.GetConfigForClient // the current CA names, when tls.ca is followed
	var snap atomic.Pointer[certSnapshot]
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		base := cfg
		if inner != nil {
			c, err := inner(hello)
			if err != nil {
				return nil, err
			}
			if c != nil {
				base = c
			}
		}
		own, err := certificateFor(base, hello)
		if err != nil {
			return nil, err
		}
		if s := snap.Load(); s != nil && s.base == base && s.own == own {
			return s.cfg, nil
		}
		c := base.Clone()
		c.GetConfigForClient = nil
		c.Certificates = nil
		c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return own, nil }
		g.own = func() (*tls.Certificate, error) { return own, nil }
		g.apply(c, tk)
		snap.Store(&certSnapshot{base: base, own: own, cfg: c})
		return c, nil
	}
}

// certSnapshot is the per-handshake config of one certificate.
type certSnapshot struct {
	base *tls.Config
	own  *tls.Certificate
	cfg  *tls.Config
}

// certificateFor is the certificate cfg presents to hello.
func certificateFor(cfg *tls.Config, hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	switch {
	case cfg.GetCertificate != nil:
		c, err := cfg.GetCertificate(hello)
		if err == nil && c == nil {
			err = errors.New("no certificate to present")
		}
		return c, err
	case len(cfg.Certificates) > 0:
		return &cfg.Certificates[0], nil
	}
	return nil, errors.New("no certificate to present")
}
