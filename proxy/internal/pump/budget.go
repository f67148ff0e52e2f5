package pump

import "net"

// budget counts the bytes a TLS peer sends until its handshake is over;
// its connection's reads fail with over once there were more than the
// limit (see WithBudget).
type budget struct {
	left int
	over error
}

// spend takes n bytes just handed to crypto/tls.
func (b *budget) spend(n int) error {
	b.left -= n
	if b.left < 0 {
		return b.over
	}
	return nil
}

// WithBudget puts a budget of limit bytes on c, the connection a tls.Conn
// is about to be made on (as Records returned it, or any other): once c has
// handed out more than limit bytes, its reads fail with over. EndBudget
// lifts it once the handshake is over. On a recordConn the budget is a
// field its Read checks, not one more wrapper on the data path.
func WithBudget(c net.Conn, limit int, over error) net.Conn {
	b := &budget{left: limit, over: over}
	if r, ok := c.(*recordConn); ok {
		r.budget = b
		return r
	}
	return &budgetConn{Conn: c, budget: b}
}

// EndBudget lifts the budget WithBudget put on c.
func EndBudget(c net.Conn) {
	switch c := c.(type) {
	case *recordConn:
		c.budget = nil
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
	n, err := b.Conn.Read(p)
	if b.budget != nil && n > 0 {
		if berr := b.budget.spend(n); berr != nil {
			return 0, berr
		}
	}
	return n, err
}

// CloseWrite keeps the half-close the pump looks for under a *tls.Conn.
func (b *budgetConn) CloseWrite() error { return CloseWrite(b.Conn) }
