package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
	"github.com/passtunnel/passtunnel/proxy"
)

// builtTunnel is a tunnel ready to bind: its proxy options, and the pki
// handle of the TLS identity they use, which its runningTunnel keeps and
// releases once no new connection uses it.
type builtTunnel struct {
	opts proxy.Options
	id   *pki.Endpoint
}

// buildTunnel turns one validated config tunnel into proxy options with a
// ready TLS config. Errors name the tunnel and the field that caused them.
func buildTunnel(m *pki.Manager, t *config.Tunnel, log *slog.Logger) (builtTunnel, error) {
	opts := proxy.Options{
		Name:   t.Name,
		Mode:   proxy.Mode(t.Mode),
		Listen: proxyAddress(t.Listen),

		ListenMode:  t.ListenMode,
		Target:      proxyAddress(t.Target),
		Targets:     proxyAddresses(t.TargetList()),
		Balance:     proxy.Balance(t.Balance),
		TargetCheck: t.TargetCheck,
		Limits:      proxy.Limits(t.Limits),
		Logger:      log,

		ProxyProtocol: proxy.ProxyProtocol(t.ProxyProtocol),
		ServerNames:   t.ServerNames,
		SNIDefault:    t.SNIDefault,
		Transparent:   transparentOptions(t),
	}
	cp, err := connectProxyOptions(t)
	if err != nil {
		return builtTunnel{}, Located{err}
	}
	opts.ConnectProxy = cp
	if t.Passphrase.IsSet() {
		opts.HandshakeHint = fmt.Sprintf("both ends must hold the same passphrase (or have it in previous_passphrases) "+
			"and the same cluster (here %q)", t.Cluster)
	}
	var e *pki.Endpoint
	switch t.Mode {
	case config.ModeServer:
		e, err = m.Server(t)
	case config.ModeClient:
		e, err = m.Client(t, targetHost(t.Target))
		if t.TLS != nil && t.TLS.InsecureSkipVerify {
			opts.ConnWarning = "insecure_skip_verify is on: the target's certificate is NOT verified; " +
				"this connection is encrypted but not authenticated"
		}
	default:
		err = fmt.Errorf("%s: tunnel %q: mode: unknown mode %q", t.Where("mode"), t.Name, t.Mode)
	}
	if err == nil {
		// The verdict (e.Peer) also answers an ACME validation on a
		// server tunnel: pki.ChallengeAnswered is a proxy.Answered.
		opts.TLS, opts.Peer, opts.MaxHandshakeBytes = e.Config, e.Peer, e.MaxHandshakeBytes
		if t.Mode == config.ModeClient {
			// A config of the tunnel's certificate now, which its session
			// ticket will prove (see pki.ForHandshake).
			opts.HandshakeConfig = pki.ForHandshake
		}
		opts.AfterHandshake, err = sharedSecretStep(m, t)
	}
	if err != nil {
		e.Release() // nil-safe: nothing was built
		return builtTunnel{}, Located{err}
	}
	return builtTunnel{opts: opts, id: e}, nil
}

// sharedSecretStep is the AfterHandshake step of t's shared_secret (nil
// without one): the exchange of proofs with the verified peer.
func sharedSecretStep(m *pki.Manager, t *config.Tunnel) (func(*tls.Conn, *x509.Certificate) error, error) {
	key, err := m.SharedSecret(t)
	if err != nil || key == nil {
		return nil, err
	}
	server := t.Mode == config.ModeServer
	return func(tc *tls.Conn, peer *x509.Certificate) error { return pki.ProveSharedSecret(tc, key, server, peer) }, nil
}

func proxyAddresses(as []config.Address) []proxy.Address {
	out := make([]proxy.Address, len(as))
	for i, a := range as {
		out[i] = proxyAddress(a)
	}
	return out
}

// targetHost is the host a client tunnel verifies when server_name is not
// set: its first target's, which config requires to be every target's
// host when a name is verified (with a pin, a passphrase or nothing
// verified it is only the SNI, the same toward every target).
func targetHost(a config.Address) string {
	if a.Network != config.NetTCP {
		return ""
	}
	host, _, err := net.SplitHostPort(a.Addr)
	if err != nil {
		return ""
	}
	return host
}

var _ proxy.Answered = pki.ChallengeAnswered{}
