package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"
)

// dial connects to a target under connect_timeout, with the tunnel's mark
// and transparent_source's address (see dialer): original when set (a
// transparent tunnel's), else the tunnel's targets (see dialTargets). It
// writes the PROXY header there when the tunnel sends one; accepted is the
// client's TLS connection in server mode and verified its verified
// certificate (see sendHeader). early is what a CONNECT proxy sent past its
// answer (see dialVia): the target's first bytes, to be read first.
func (c *conn) dial(original Address, timeout time.Duration, accepted *tls.Conn, verified *x509.Certificate) (raw net.Conn, early []byte, err error) {
	// A context for this dial alone, which abort cancels. One kept for the
	// connection's life would keep what dialing hangs on it (a map of
	// children, a channel): 0.6 KiB of every idle connection.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !c.setInterrupt(cancel) {
		return nil, nil, errAborted
	}
	d := c.dialer(timeout)
	if original.Addr != "" {
		c.dialled = original
		raw, early, err = c.dialVia(ctx, &d, original)
	} else {
		raw, early, c.dialled, err = c.dialTargets(ctx, &d)
	}
	c.setInterrupt(nil)
	if err != nil {
		return nil, nil, err
	}
	if !c.setTarget(raw) {
		raw.Close()
		return nil, nil, errAborted
	}
	if err := c.sendHeader(raw, accepted, verified); err != nil {
		return nil, nil, err // finish closes raw, which setTarget recorded
	}
	return raw, early, nil
}

// targetFailed reports a failed dial or handshake toward the target. Besides
// the closing line, a throttled WARN makes it visible at warn level.
func (c *conn) targetFailed(peer, reason string, err error, subject string) outcome {
	if r := c.abortReason(); r != "" {
		return outcome{reason: r, subject: subject}
	}
	target := c.opts.targetsString()
	if c.dialled.Addr != "" {
		target = c.dialled.String()
	}
	c.t.warn.Warn("target connection failed", "peer", peer, "target", target,
		"reason", reason, "error", err)
	c.markResetPeer()
	return outcome{reason: reason, err: err, subject: subject}
}
