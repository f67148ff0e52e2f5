package proxy

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

const (
	// bulkBufSize is the size of the pooled buffers that are held only while
	// bytes flow.
	bulkBufSize = 32 << 10
	// tlsProbeSize is the buffer each TLS-reading direction keeps for good:
	// an idle connection costs this much instead of a bulk buffer.
	tlsProbeSize = 1 << 10
	// maxTLSRecord is the largest plaintext a TLS record carries. A reader
	// that keeps getting full records is in a bulk transfer.
	maxTLSRecord = 16 << 10
)

// bufPool is shared by all tunnels: buffers are plain memory and the pool
// only ever hands out bulkBufSize slices.
var bufPool = sync.Pool{New: func() any { b := make([]byte, bulkBufSize); return &b }}

// direction copies one way of a connection, from src to dst.
type direction struct {
	src, dst net.Conn
	total    *atomic.Uint64 // tunnel-wide byte counter
	touch    func()         // marks activity for idle_timeout; may be nil
	n        int64          // bytes written to dst
}

// pump runs both directions until each has ended. A direction that reaches
// EOF half-closes its destination and leaves the other direction running; a
// direction that fails calls abort, which must close both connections so the
// other direction unblocks. pump returns the first real error, or nil when
// both directions ended with EOF.
func pump(up, down *direction, abort func()) error {
	run := func(d *direction) error {
		err := d.run()
		if err != nil {
			abort()
		}
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- run(down) }()
	errUp := run(up)
	errDown := <-errc
	return firstError(errUp, errDown)
}

// firstError prefers an error that is not the consequence of abort closing
// the connection under the other direction.
func firstError(a, b error) error {
	if a != nil && !errors.Is(a, net.ErrClosed) {
		return a
	}
	if b != nil && !errors.Is(b, net.ErrClosed) {
		return b
	}
	if a != nil {
		return a
	}
	return b
}

// run copies until EOF, then passes the EOF on. A failed half-close is not
// reported: every byte was already handed to dst, and the failure only means
// dst's peer is gone (typically it closed fully, not just its write side),
// which the other direction notices on its own.
func (d *direction) run() error {
	if err := d.copy(); err != nil {
		return err
	}
	_ = closeWrite(d.dst)
	return nil
}

// copy forwards until EOF (returning nil) or an error. A TLS peer that closes
// TCP without close_notify in the middle of a record (io.ErrUnexpectedEOF)
// has still finished sending, so it counts as EOF too.
func (d *direction) copy() error {
	var err error
	switch src := d.src.(type) {
	case *tls.Conn:
		err = d.copyTLS(src)
	case syscall.Conn:
		err = d.copyPolled(src)
	default:
		err = d.copyPlain()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// copyPolled waits for the socket to become readable without holding a
// buffer, then takes a pool buffer only while data is queued.
func (d *direction) copyPolled(src syscall.Conn) error {
	rc, err := src.SyscallConn()
	if err != nil {
		return d.copyPlain()
	}
	wait := readableWaiter(rc)
	for {
		if err := wait(); err != nil {
			return err
		}
		if err := d.withBuf(func(buf []byte) error { return d.burst(buf) }); err != nil {
			return err
		}
	}
}

// copyPlain is the fallback for connections the poller trick cannot see
// into: it blocks in Read holding a pool buffer.
func (d *direction) copyPlain() error {
	for {
		if err := d.withBuf(func(buf []byte) error { return d.burst(buf) }); err != nil {
			return err
		}
	}
}

// burst forwards until a read returns less than a full buffer, which means
// the socket had nothing more queued when it was read.
func (d *direction) burst(buf []byte) error {
	for {
		n, err := d.src.Read(buf)
		if werr := d.write(buf[:n]); werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
		if n < len(buf) {
			return nil
		}
	}
}

// copyTLS reads a TLS source, whose decrypted-but-unread bytes are invisible
// from outside. Waiting on the raw socket could therefore deadlock, so it
// always reads, first into a small buffer kept for the connection's life.
// Only when that read fills the buffer does it switch to a pool buffer.
func (d *direction) copyTLS(src *tls.Conn) error {
	probe := make([]byte, tlsProbeSize)
	for {
		n, err := src.Read(probe)
		if werr := d.write(probe[:n]); werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
		if n == len(probe) {
			if err := d.withBuf(func(buf []byte) error { return d.tlsBurst(src, buf, n) }); err != nil {
				return err
			}
		}
	}
}

// tlsBurst forwards the rest of the record whose first head bytes were just
// forwarded, and keeps going while full records arrive. tls.Conn.Read with a
// buffer of at least maxTLSRecord returns everything left of the current
// record, so each such read ends on a record boundary and the record's size
// is visible here. Whatever the heuristic guesses, every read either returns
// buffered bytes or blocks for new ones, so nothing is lost or stuck.
func (d *direction) tlsBurst(src *tls.Conn, buf []byte, head int) error {
	record := head
	for {
		n, err := src.Read(buf)
		if werr := d.write(buf[:n]); werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
		if record+n < maxTLSRecord {
			return nil
		}
		record = 0
	}
}

func (d *direction) withBuf(f func([]byte) error) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	return f(*bp)
}

func (d *direction) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if d.touch != nil {
		d.touch()
	}
	n, err := d.dst.Write(p)
	d.n += int64(n)
	d.total.Add(uint64(n))
	if d.touch != nil {
		d.touch()
	}
	return err
}

// closeWrite tells dst's peer that no more bytes will come. For TLS that is a
// close_notify alert followed by a TCP FIN, since tls.Conn.CloseWrite does not
// shut down the underlying connection.
func closeWrite(c net.Conn) error {
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.CloseWrite(); err != nil {
			return err
		}
		c = tc.NetConn()
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
