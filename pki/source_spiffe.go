package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/passtunnel/passtunnel/config"
)

// spiffeStartWait bounds how long building a SPIFFE endpoint waits for the
// Workload API's first answer. Once it answers (an SVID or an error), or
// the wait ends, the endpoint is built: an agent that is not there yet
// leaves it not ready (Expiry's error, so /readyz says why) until the
// first SVID arrives, rather than failing the start or the reload.
const spiffeStartWait = 5 * time.Second

// spiffeSource is the identity and trust a SPIFFE Workload API gives (a
// SPIRE agent): the tunnel presents its X.509-SVID and verifies peers
// against the X.509 bundles of the trust domains the agent names, both as
// the agent last pushed them, so a rotation applies from the next
// handshake. Each endpoint keeps its own watch of the Workload API.
type spiffeSource struct {
	m *Manager
	w *spiffeWatch // nil until built
}

func newSPIFFESource(m *Manager) identitySource { return &spiffeSource{m: m} }

// spiffeSetup starts watching t's Workload API and returns the tunnel
// with a tls block (its defaults if absent) and the config both sides
// start from: the SVID presented by sd's hook, and a verification whose
// chain check reads the current bundles.
func (s *spiffeSource) spiffeSetup(t *config.Tunnel, sd side) (*tls.Config, *verification, error) {
	tt := *t
	tt.TLS = tlsBlock(t)
	cfg, err := baseConfig(&tt)
	if err != nil {
		return nil, nil, err
	}
	v, err := pinsAndAllow(&tt)
	if err != nil {
		return nil, nil, err
	}
	addr, err := spiffeAddress(t)
	if err != nil {
		return nil, nil, err
	}
	if s.w, err = startSPIFFEWatch(addr, t.Name, s.m.log); err != nil {
		return nil, nil, fieldError(t, "spiffe.socket", err)
	}
	s.w.waitFirst(spiffeStartWait)
	sd.present(cfg, s.w.own)
	v.chain = s.w.chainCheck(s.m.now)
	return cfg, v, nil
}

// spiffeAddress is the Workload API address of t: spiffe.socket, or the
// SPIFFE_ENDPOINT_SOCKET environment variable as the SPIFFE Workload
// Endpoint specification has it.
func spiffeAddress(t *config.Tunnel) (string, error) {
	addr := t.SPIFFE.Socket
	if addr == "" {
		env, ok := workloadapi.GetDefaultAddress()
		if !ok || env == "" {
			return "", fieldError(t, "spiffe.socket", fmt.Errorf("not set, and neither is $%s", workloadapi.SocketEnv))
		}
		addr = env
	}
	if err := workloadapi.ValidateAddress(addr); err != nil {
		return "", fieldError(t, "spiffe.socket", fmt.Errorf("%q: %w", addr, err))
	}
	return addr, nil
}

func (s *spiffeSource) server(t *config.Tunnel) (*Endpoint, error) {
	cfg, v, err := s.spiffeSetup(t, serverSide)
	if err != nil {
		return nil, err
	}
	// SPIFFE is mutual TLS: every client shows an SVID. crypto/tls only
	// asks for it; VerifyConnection verifies it against the bundles, on
	// resumed sessions too.
	cfg.ClientAuth = tls.RequireAnyClientCert
	if resumes(t) {
		// As for files: a session made under the SVID before a rotation
		// is not resumed, so every new connection sees the current SVID.
		g, tk := s.m.fileSessions(t)
		g.sameOwn = true
		guardEachHandshake(cfg, g, tk)
	}
	return endpoint(cfg, v), nil
}

func (s *spiffeSource) client(t *config.Tunnel, targetHost string) (*Endpoint, error) {
	cfg, v, err := s.spiffeSetup(t, clientSide)
	if err != nil {
		return nil, err
	}
	// crypto/tls's own check is off: it would want a DNS name, and SPIFFE
	// peers are named by their SPIFFE ID (allow.uri), not by host names.
	// VerifyConnection checks the chain against the bundles on every
	// handshake, resumed or not.
	cfg.InsecureSkipVerify = true
	cfg.ServerName = verifyHost(targetHost) // SNI, and the session cache's key
	if t.TLS != nil && t.TLS.ServerName != "" {
		cfg.ServerName = t.TLS.ServerName
	}
	if resumes(t) {
		cfg.ClientSessionCache = newSessionCache(s.w.own)
	}
	return endpoint(cfg, v), nil
}

func (s *spiffeSource) expiry() (time.Time, error) {
	if s.w == nil {
		return time.Time{}, errors.New("SPIFFE Workload API not watched")
	}
	return expiryOf(s.w.own)
}

func (s *spiffeSource) release() {
	if s.w != nil {
		s.w.stop()
	}
}

// chainCheck verifies a peer as SPIFFE has it (x509svid.Verify): a leaf
// that is no CA, with exactly one URI SAN, a SPIFFE ID, chained to the
// bundle of that ID's trust domain (a peer of another trust domain is
// verified against its own bundle only, if the agent gives one), valid
// now. No DNS name is checked: allow { uri = [...] } names the peers a
// tunnel accepts. Chains verified against one set of bundles are
// remembered until the agent pushes another.
func (w *spiffeWatch) chainCheck(now func() time.Time) chainCheck {
	cache := newVerifyCache()
	return func(certs []*x509.Certificate) ([]*x509.Certificate, error) {
		if len(certs) > maxPeerChain {
			return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs,
				Err: fmt.Errorf("peer sent %d certificates, more than the %d of any real chain", len(certs), maxPeerChain)}
		}
		st, err := w.current()
		if err != nil {
			return nil, err
		}
		at := now()
		return cache.check(st.key, certs, at, func() ([]*x509.Certificate, error) {
			_, chains, err := x509svid.Verify(certs, st.bundles, x509svid.WithTime(at))
			if err != nil {
				return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
			}
			return chains[0], nil
		})
	}
}
