package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// secureHandshake is the TLS handshake, the verdict on its peer (see
// Options.Peer) and the tunnel's AfterHandshake step (the shared-secret
// proof), all under one handshake_timeout deadline: a peer that completes
// TLS and then says nothing is bounded like one that stalls the handshake.
// In server mode it runs before the target is dialed, so a peer that fails
// it never reaches the target. It returns the verified peer.
func (c *conn) secureHandshake(tc *tls.Conn, raw net.Conn, timeout time.Duration) (*x509.Certificate, error) {
	if timeout > 0 {
		if err := raw.SetDeadline(time.Now().Add(timeout)); err != nil {
			return nil, err
		}
	}
	peer, err := c.handshakeSteps(tc)
	endBudget(tc)
	if cerr := raw.SetDeadline(time.Time{}); err == nil {
		err = cerr
	}
	return peer, err
}

// handshakeSteps runs the steps secureHandshake bounds. An ACME CA's
// validation (server mode) has no certificate to verify nor a proof to
// give: it is closed right after the handshake anyway.
func (c *conn) handshakeSteps(tc *tls.Conn) (*x509.Certificate, error) {
	o := c.opts
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	if o.Mode == config.ModeServer && isACMEChallenge(tc) {
		return nil, nil
	}
	verdict := o.Peer
	if verdict == nil {
		verdict = verifiedByTLS
	}
	peer, err := verdict(tc.ConnectionState())
	if err != nil {
		return nil, err
	}
	if o.AfterHandshake != nil {
		if err := o.AfterHandshake(tc, peer); err != nil {
			return nil, err
		}
	}
	return peer, nil
}

// verifiedByTLS is the verdict of a tunnel without Options.Peer: the leaf
// of the chain crypto/tls verified itself, if it verified one. Nothing
// else of what the peer sent is an identity.
func verifiedByTLS(cs tls.ConnectionState) (*x509.Certificate, error) {
	if len(cs.VerifiedChains) > 0 && len(cs.VerifiedChains[0]) > 0 {
		return cs.VerifiedChains[0][0], nil
	}
	return nil, nil
}

// distrusted is a server handshake that failed the way an OpenSSL client
// (s_client, stunnel, HAProxy) ends TLS 1.3 when it does not trust the
// server's certificate: its alert comes under keys the server no longer
// reads with, and crypto/tls can only report "bad record MAC".
type distrusted struct{ err error }

func (d distrusted) Error() string {
	return d.err.Error() + " (the peer probably does not trust this tunnel's certificate: a TLS 1.3 client " +
		"that refuses it ends the handshake this way; check the CA the client trusts and the name it expects)"
}
func (d distrusted) Unwrap() error         { return d.err }
func (distrusted) HandshakeReason() string { return hsBadCertificate }

// explainServerHandshake names the likely cause of a server handshake's
// failure where crypto/tls's error alone misleads.
func explainServerHandshake(tc *tls.Conn, err error) error {
	cs := tc.ConnectionState()
	if !cs.HandshakeComplete && cs.Version == tls.VersionTLS13 && strings.Contains(err.Error(), "bad record MAC") {
		return distrusted{err}
	}
	return err
}

// reasoned is an error that names its own handshake failure reason, such
// as pki's shared-secret mismatch ("shared_secret"): proxy knows nothing of
// pki, and the text of such errors is not for parsing.
type reasoned interface{ HandshakeReason() string }

// handshakeReason is the reason a failed handshake is logged and counted
// under.
func handshakeReason(err error) string {
	var r reasoned
	if errors.As(err, &r) {
		return r.HandshakeReason()
	}
	return classifyHandshake(err)
}
