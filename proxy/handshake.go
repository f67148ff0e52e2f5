package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/passtunnel/passtunnel/proxy/internal/pump"
)

// DefaultMaxHandshakeBytes is Options.MaxHandshakeBytes when left at 0.
// crypto/tls takes up to 256 KiB of certificates in one message and parses
// every one of them (several microseconds each) before any verification
// can refuse them: a peer that floods certificates makes each handshake
// cost many times a normal one. A real handshake's bytes in, hello and
// certificate chain, are a few KiB.
const DefaultMaxHandshakeBytes = 64 << 10

// handshakeTooLarge ends a handshake whose peer sent more than its budget.
type handshakeTooLarge struct{ limit int }

func (e handshakeTooLarge) Error() string {
	return fmt.Sprintf("the peer sent more than %d bytes before its TLS handshake completed (a certificate flood?)", e.limit)
}

// HandshakeReason is the reason the failure is counted under.
func (handshakeTooLarge) HandshakeReason() string { return "handshake_too_large" }

// Answered is an error of Options.Peer that ends a connection after its
// handshake as answered rather than failed: the handshake was the whole
// exchange the peer came for (the caller recognised it), so the connection
// closes with the reason HandshakeReason names, without AfterHandshake, a
// dial or a handshake failure counted. Answered must return true.
type Answered interface {
	error
	HandshakeReason() string
	Answered() bool
}

// answered is the reason of an Answered err, "" for any other.
func answered(err error) string {
	var a Answered
	if errors.As(err, &a) && a.Answered() {
		return a.HandshakeReason()
	}
	return ""
}

// handshake is the TLS handshake of the connection with its TLS peer (the
// client in server mode, the target in client mode) on raw, the socket to
// that peer; early are bytes already read from it (with a PROXY header).
// The handshake, the verdict on its peer (Options.Peer) and AfterHandshake
// (the shared-secret proof) all run under one deadline of timeout, so that
// a peer that completes TLS and then says nothing is bounded like one that
// stalls the handshake, and under the handshake byte budget. In server mode
// it runs before the target is dialed, so a peer that fails it never
// reaches the target. It returns the verified peer.
//
// The handshake computes only while it holds a slot of the tunnel's
// handshakeGate (max_handshakes): it takes one when it starts, gives it
// back whenever it waits for the peer, and at its end.
//
// Its duration goes to the tunnel's handshake histogram whether it
// succeeded or failed. Handshakes that passtunnel itself cut short (drain,
// max_lifetime) are not observed: their duration says nothing about peers,
// and they are not counted as handshake failures either, so the
// histogram's count stays equal to successes plus failures.
func (c *conn) handshake(raw net.Conn, early []byte, timeout time.Duration) (*tls.Conn, *x509.Certificate, error) {
	start := time.Now()
	slot := &handshakeSlot{c: c, gate: &c.t.gate}
	tc := c.tlsOn(raw, early, slot)
	c.tls = tc
	var peer *x509.Certificate
	var err error
	if timeout > 0 {
		slot.deadline = start.Add(timeout)
		err = raw.SetDeadline(slot.deadline)
	}
	if err == nil {
		if err = slot.Resume(); err == nil {
			peer, err = c.verify(tc)
		}
		slot.end()
		pump.EndBudget(tc.NetConn())
		if cerr := raw.SetDeadline(time.Time{}); err == nil {
			err = cerr
		}
	}
	if err == nil || answered(err) != "" || c.abortReason() == "" {
		c.t.stats.handshakes.observe(handshakeBounds[:], time.Since(start))
	}
	return tc, peer, err
}

// tlsOn makes the tls.Conn of the side that carries TLS on raw: over the
// pump's record reader where it can (see pump.Records), bounded by the
// handshake byte budget, its waits for the peer told to slot, with the
// config Options.HandshakeConfig makes.
func (c *conn) tlsOn(raw net.Conn, early []byte, slot pump.Waiter) *tls.Conn {
	o := c.opts
	nc := pump.Records(raw, early)
	if nc == nil {
		nc = raw
		if len(early) > 0 {
			nc = &prefixConn{Conn: raw, early: early}
		}
	}
	limit := o.MaxHandshakeBytes
	if limit <= 0 {
		limit = DefaultMaxHandshakeBytes
	}
	nc = pump.WithBudget(nc, limit, handshakeTooLarge{limit: limit}, slot)
	cfg := o.TLS
	if o.HandshakeConfig != nil {
		cfg = o.HandshakeConfig(cfg)
	}
	if o.Mode == ModeServer {
		return tls.Server(nc, cfg)
	}
	return tls.Client(nc, cfg)
}

// verify runs the steps handshake bounds: the TLS handshake, the verdict
// on its peer, and AfterHandshake unless the verdict answered the
// connection.
func (c *conn) verify(tc *tls.Conn) (*x509.Certificate, error) {
	o := c.opts
	if err := tc.Handshake(); err != nil {
		return nil, err
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

// handshakeFailed counts a failed handshake by reason and logs it
// (throttled), with the tunnel's hint when the failure is about certificates.
func (c *conn) handshakeFailed(err error, who ...any) {
	reason := handshakeReason(err)
	c.t.stats.handshakeFailed(reason)
	args := append(who, "reason", reason, "error", err)
	if hint := c.opts.HandshakeHint; hint != "" && certificateReason(reason) {
		args = append(args, "hint", hint)
	}
	c.t.warn.Warn("handshake failed", args...)
}
