package proxy

import (
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// secureHandshake is handshake followed by the tunnel's AfterHandshake step
// (the shared-secret proof), both under one handshake_timeout deadline: a
// peer that completes TLS and then says nothing is bounded like one that
// stalls the handshake. In server mode it runs before the target is
// dialed, so a peer that fails it never reaches the target.
func secureHandshake(tc *tls.Conn, raw net.Conn, timeout time.Duration, after func(*tls.Conn) error) error {
	if after == nil {
		return handshake(tc, raw, timeout)
	}
	if timeout > 0 {
		if err := raw.SetDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	err := tc.Handshake()
	if err == nil {
		err = after(tc)
	}
	if cerr := raw.SetDeadline(time.Time{}); err == nil {
		err = cerr
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
