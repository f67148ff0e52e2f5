package proxy

import (
	"crypto/tls"
	"fmt"
	"net"
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

// handshakeBudget counts the bytes a TLS peer sends until its handshake is
// over; its connection reads fail once there were more than limit.
type handshakeBudget struct{ left, limit int }

// spend takes n bytes just handed to crypto/tls.
func (b *handshakeBudget) spend(n int) error {
	b.left -= n
	if b.left < 0 {
		return handshakeTooLarge{limit: b.limit}
	}
	return nil
}

// budgeted puts a handshake budget of limit bytes on c, the connection a
// tls.Conn is about to be made on (as withRecords returned it); endBudget
// lifts it once the handshake is over.
func budgeted(c net.Conn, limit int) net.Conn {
	if limit <= 0 {
		limit = DefaultMaxHandshakeBytes
	}
	b := &handshakeBudget{left: limit, limit: limit}
	if r, ok := c.(*recordConn); ok {
		r.budget = b
		return r
	}
	return &budgetConn{Conn: c, budget: b}
}

// endBudget lifts the handshake budget of tc's connection.
func endBudget(tc *tls.Conn) {
	switch c := tc.NetConn().(type) {
	case *recordConn:
		c.budget = nil
	case *budgetConn:
		c.budget = nil
	}
}

// budgetConn is the budget on a connection without a recordConn (see
// withRecords). Only the goroutine reading the tls.Conn touches budget.
type budgetConn struct {
	net.Conn
	budget *handshakeBudget
}

func (b *budgetConn) Read(p []byte) (int, error) {
	n, err := b.Conn.Read(p)
	if b.budget != nil && n > 0 {
		if berr := b.budget.spend(n); berr != nil {
			return 0, berr
		}
	}
	return n, err
}

// CloseWrite keeps the half-close the pump looks for under a *tls.Conn.
func (b *budgetConn) CloseWrite() error { return closeWrite(b.Conn) }
