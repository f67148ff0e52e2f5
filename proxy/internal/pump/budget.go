package pump

import "net"

// budget is the state a TLS peer's connection carries until its handshake
// is over: the bytes the peer may still send, its connection's reads
// failing with over once there were more than the limit, and the Waiter
// told when a read waits for the peer (see WithBudget).
type budget struct {
	left int
	over error
	wait Waiter
}

// spend takes n bytes just handed to crypto/tls.
func (b *budget) spend(n int) error {
	b.left -= n
	if b.left < 0 {
		return b.over
	}
	return nil
}

// Waiter hears when a read of a handshake waits for its peer: Wait just
// before the goroutine parks until the peer sends, Resume once the wait is
// over and before crypto/tls gets the bytes (an error from Resume fails the
// read). The tunnel uses it to hold a handshake slot only while the
// handshake computes, never while it waits on the network. Only the
// goroutine reading the tls.Conn calls it.
type Waiter interface {
	Wait()
	Resume() error
}

// WithBudget puts a budget of limit bytes on c, the connection a tls.Conn
// is about to be made on (as Records returned it, or any other): once c has
// handed out more than limit bytes, its reads fail with over. wait, if not
// nil, hears about the reads that wait for the peer (see Waiter): on a
// recordConn exactly those that find nothing queued on the socket; on any
// other connection, which cannot tell, every read. EndBudget lifts both
// once the handshake is over. On a recordConn the budget is a field its
// Read checks, not one more wrapper on the data path.
func WithBudget(c net.Conn, limit int, over error, wait Waiter) net.Conn {
	b := &budget{left: limit, over: over, wait: wait}
	if r, ok := c.(*recordConn); ok {
		r.budget = b
		r.s.wait = wait
		return r
	}
	return &budgetConn{Conn: c, budget: b}
}

// EndBudget lifts the budget and the Waiter WithBudget put on c.
func EndBudget(c net.Conn) {
	switch c := c.(type) {
	case *recordConn:
		c.budget = nil
		c.s.wait, c.s.parked = nil, false
	case *budgetConn:
		c.budget = nil
	}
}

// budgetConn is the budget on a connection without a recordConn (see
// Records). Only the goroutine reading the tls.Conn touches budget.
type budgetConn struct {
	net.Conn
	budget *budget
}

func (b *budgetConn) Read(p []byte) (int, error) {
	bg := b.budget
	if bg == nil {
		return b.Conn.Read(p)
	}
	if bg.wait != nil {
		bg.wait.Wait()
	}
	n, err := b.Conn.Read(p)
	if bg.wait != nil && n > 0 { // without bytes there is nothing to compute
		if werr := bg.wait.Resume(); werr != nil {
			return 0, werr
		}
	}
	if n > 0 {
		if berr := bg.spend(n); berr != nil {
			return 0, berr
		}
	}
	return n, err
}

// CloseWrite keeps the half-close the pump looks for under a *tls.Conn.
func (b *budgetConn) CloseWrite() error { return CloseWrite(b.Conn) }
