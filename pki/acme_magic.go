package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"

	"github.com/caddyserver/certmagic"

	"github.com/passtunnel/passtunnel/config"
)

// acmeState is one acme block managed by certmagic: its own cache, config
// and issuer, never certmagic's package-level defaults, so that tunnels
// (and tests) do not share or mutate global state.
type acmeState struct {
	magic   *certmagic.Config
	cache   *certmagic.Cache
	issuer  certmagic.ACMEIssuer // template; start adds the listener's address
	domains []string
	storage string
	log     *slog.Logger

	ctx    context.Context // cancelled by stop: ends retries and renewals
	cancel context.CancelFunc

	once     sync.Once
	startErr error

	refs int // endpoints serving it; guarded by Manager.mu
}

func newACMEState(t *config.Tunnel, roots *x509.CertPool, storage string, log *slog.Logger) *acmeState {
	a := t.ACME
	st := &acmeState{
		domains: slices.Clone(a.Domains),
		storage: storage,
		log:     log.With("tunnel", t.Name),
	}
	st.ctx, st.cancel = context.WithCancel(context.Background())
	zl := zapToSlog(st.log.With("component", "certmagic").Handler())
	st.cache = certmagic.NewCache(certmagic.CacheOptions{
		// Read only once certificates are cached, after st.magic is set.
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return st.magic, nil },
		Logger:           zl,
	})
	st.magic = certmagic.New(st.cache, certmagic.Config{
		Storage: &certmagic.FileStorage{Path: storage},
		// Clients that send no SNI (those that dial an IP address) get
		// the first domain's certificate instead of a failed handshake.
		DefaultServerName: a.Domains[0],
		OnEvent:           st.onEvent,
		Logger:            zl,
	})
	ca := a.CA
	if ca == "" {
		ca = certmagic.LetsEncryptProductionCA
	}
	st.issuer = certmagic.ACMEIssuer{
		CA:     ca,
		Email:  a.Email,
		Agreed: true, // configuring acme is accepting the CA's terms
		// There is no port 80 here: TLS-ALPN-01 on the tunnel's own
		// listener is the one challenge solved.
		DisableHTTPChallenge: true,
		TrustedRoots:         roots,
		Logger:               zl,
	}
	return st
}

// start points the TLS-ALPN-01 solver at the tunnel's bound listener and
// begins obtaining (or loading) the certificates in the background.
//
// certmagic's solver first tries to bind that address for a listener of
// its own; the bind fails because the tunnel holds it, certmagic then
// checks that something answers there (one TCP connection, which the
// tunnel counts as a handshake ending in EOF) and leaves the challenge to
// the tunnel's GetCertificate. That is why this must run after the
// listener is bound: earlier, certmagic would take the port.
func (st *acmeState) start(addr net.Addr) error {
	st.once.Do(func() { st.startErr = st.manage(addr) })
	return st.startErr
}

func (st *acmeState) manage(addr net.Addr) error {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return fmt.Errorf("needs a TCP listener for the TLS-ALPN-01 challenge, not %s", addr.Network())
	}
	if err := os.MkdirAll(st.storage, 0o700); err != nil {
		return fmt.Errorf("storage %q: %w", st.storage, err)
	}
	iss := st.issuer
	iss.ListenHost = tcp.IP.String()
	iss.AltTLSALPNPort = tcp.Port
	// Set before any certificate exists and before the tunnel serves, so
	// no handshake or renewal reads Issuers while it is written.
	st.magic.Issuers = []certmagic.Issuer{certmagic.NewACMEIssuer(st.magic, iss)}
	if err := st.magic.ManageAsync(st.ctx, st.domains); err != nil {
		return fmt.Errorf("managing %v: %w", st.domains, err)
	}
	st.log.Info("acme: managing certificates", "domains", st.domains, "ca", iss.CA, "storage", st.storage)
	return nil
}

func (st *acmeState) stop() {
	st.cancel()
	st.cache.Stop()
}

// challengeCertificate serves the TLS-ALPN-01 challenge certificate and
// nothing else: the challenge config has no client authentication, so it
// must never hand out the real certificate. certmagic answers from its
// challenge memory for a ClientHello offering only acme-tls/1 and fails
// when no challenge is pending for the name.
func (st *acmeState) challengeCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if !isACMEChallenge(hello) {
		return nil, errors.New("acme: not a TLS-ALPN-01 challenge")
	}
	return st.magic.GetCertificate(hello)
}

// onEvent turns certmagic's events into the log lines an operator watches.
func (st *acmeState) onEvent(_ context.Context, event string, data map[string]any) error {
	switch event {
	case "cert_obtained":
		msg := "acme certificate obtained"
		if renewal, _ := data["renewal"].(bool); renewal {
			msg = "acme certificate renewed"
		}
		st.log.Info(msg, "domain", data["identifier"], "issuer", data["issuer"])
	case "cached_managed_cert":
		st.log.Info("acme certificate in use", "domains", data["sans"])
	case "cert_failed":
		renewal, _ := data["renewal"].(bool)
		st.log.Error("acme certificate not obtained; certmagic retries in the background",
			"domain", data["identifier"], "renewal", renewal, "error", data["error"])
	}
	return nil
}

// acmeRoots loads acme.trusted_roots, the CA(s) that sign a private ACME
// server's HTTPS certificate; nil means the system roots. The certificates'
// DER is returned too, so that a changed file makes a new acmeState on
// reload.
func acmeRoots(t *config.Tunnel) (*x509.CertPool, []byte, error) {
	path := t.ACME.TrustedRoots
	if path == "" {
		return nil, nil, nil
	}
	certs, err := loadCerts(roleCA, path)
	if err != nil {
		return nil, nil, fieldError(t, "acme.trusted_roots", err)
	}
	pool := x509.NewCertPool()
	var der []byte
	for _, c := range certs {
		pool.AddCert(c)
		der = append(der, c.Raw...)
	}
	return pool, der, nil
}
