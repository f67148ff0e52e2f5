package pump

import (
	"errors"
	"net"
	"os"
	"time"
)

// ErrWriteStalled ends a direction whose destination took no byte for the
// stall bound New was given (write_timeout): a peer that stopped reading
// would otherwise hold the connection, its descriptors and its buffer for
// ever.
var ErrWriteStalled = errors.New("the peer took no byte within write_timeout")

// The bound is a write deadline, set only when a write finds the socket
// full (EAGAIN) and moved forward each time bytes went meanwhile, then
// cleared when the write returns: a write that never waits costs nothing,
// and a deadline left behind could not fail a later write (net checks an
// expired deadline before it even tries).

// arm is called when w's socket is full: it sets the deadline stall from
// now, unless one is set already and no byte went since.
func (w *sockWriter) arm() {
	if w.stall <= 0 || (w.armed && w.n == w.armedAt) {
		return
	}
	if w.conn.SetWriteDeadline(time.Now().Add(w.stall)) == nil {
		w.armed, w.armedAt = true, w.n
	}
}

// disarm clears the deadline arm set, and names the error a write that
// hit it ends with.
func (w *sockWriter) disarm(err error) error {
	if !w.armed {
		return err
	}
	w.armed = false
	_ = w.conn.SetWriteDeadline(time.Time{})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return ErrWriteStalled
	}
	return err
}

// deadlineWriter bounds writes to a connection the pump cannot write
// through its descriptor (no socket, or TLS not over a recordConn): the
// whole write, not each byte of progress, gets the stall bound.
type deadlineWriter struct {
	c     net.Conn
	stall time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if err := d.c.SetWriteDeadline(time.Now().Add(d.stall)); err != nil {
		return 0, err
	}
	n, err := d.c.Write(p)
	if cerr := d.c.SetWriteDeadline(time.Time{}); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = &net.OpError{Op: "write", Net: d.c.LocalAddr().Network(), Source: d.c.LocalAddr(), Addr: d.c.RemoteAddr(), Err: ErrWriteStalled}
	}
	return n, err
}

// setStall bounds the socket writes of the records a tls.Conn writes
// through r, under the lock those writes take.
func (r *recordConn) setStall(d time.Duration) {
	r.w.mu.Lock()
	r.out.stall = d
	r.w.mu.Unlock()
}
