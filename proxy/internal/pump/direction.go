package pump

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// maxTLSRecord is the largest plaintext a TLS record carries, and so the
// most one tls.Conn.Read returns.
const maxTLSRecord = 16 << 10

// direction copies one way of a connection, from src to dst.
type direction struct {
	src, dst net.Conn
	total    *atomic.Uint64 // tunnel-wide byte counter
	touch    func()         // marks activity for idle_timeout; may be nil
	stall    time.Duration  // bound on a write without progress, 0 = none
	n        int64          // bytes written to dst
	// writeFailed: the error that ended the direction came from writing
	// dst, not from reading src.
	writeFailed bool
	sock        *sockReader // src as copySock reads it, once made
	out         io.Writer   // dst as write writes it, once chosen
}

// run copies until EOF, then passes the EOF on. A failed half-close is not
// reported: every byte was already handed to dst, and the failure only means
// dst's peer is gone (typically it closed fully, not just its write side),
// which the other direction notices on its own.
func (d *direction) run() error {
	if err := d.copy(); err != nil {
		return err
	}
	_ = CloseWrite(d.dst)
	return nil
}

// copy forwards until EOF (returning nil) or an error. A TLS peer that closes
// TCP without close_notify in the middle of a record (io.ErrUnexpectedEOF)
// has still finished sending, so it counts as EOF too.
//
// Sockets are read without a buffer held while they are idle: copySock for
// cleartext, copyRecords for TLS over a recordConn. Anything else blocks in
// Read (copyTLS, copyPlain).
func (d *direction) copy() error {
	var err error
	switch src := d.src.(type) {
	case *tls.Conn:
		if rc, ok := src.NetConn().(*recordConn); ok {
			err = d.copyRecords(src, rc)
		} else {
			err = d.copyTLS(src)
		}
	default:
		if d.sock == nil {
			d.sock = newSockReader(src) // kept: a migrated goroutine carries on with it
		}
		if d.sock != nil {
			err = d.copySock(d.sock)
		} else {
			err = d.copyPlain()
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

func (d *direction) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if d.touch != nil {
		d.touch()
	}
	var n int
	var err error
	if rc := d.batchTo(); rc != nil && len(p) > minBatch {
		rc.beginBatch(len(p))
		n, err = d.dst.Write(p)
		if ferr := rc.endBatch(); err == nil {
			err = ferr
		}
	} else {
		n, err = d.writer().Write(p)
	}
	d.n += int64(n)
	d.total.Add(uint64(n))
	if d.touch != nil {
		d.touch()
	}
	d.writeFailed = err != nil
	return err
}

// writer is what write hands bytes to: a cleartext socket's sockWriter
// where there is one, else dst (bounded by stall unless its records go out
// through a recordConn's sockWriter, which New bounded).
func (d *direction) writer() io.Writer {
	if d.out == nil {
		d.out = d.dst
		if tc, isTLS := d.dst.(*tls.Conn); isTLS {
			if _, ok := tc.NetConn().(*recordConn); ok {
				return d.out
			}
		} else if w := newSockWriter(d.dst); w != nil {
			w.stall = d.stall
			d.out = w
			return d.out
		}
		if d.stall > 0 {
			d.out = deadlineWriter{c: d.dst, stall: d.stall}
		}
	}
	return d.out
}

// CloseWrite tells dst's peer that no more bytes will come. For TLS that is a
// close_notify alert followed by a TCP FIN, since tls.Conn.CloseWrite does not
// shut down the underlying connection.
func CloseWrite(c net.Conn) error {
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

// batchTo is the recordConn under a TLS destination, whose socket writes
// the records of one Write are gathered into (see records_write.go).
func (d *direction) batchTo() *recordConn {
	if tc, ok := d.dst.(*tls.Conn); ok {
		rc, _ := tc.NetConn().(*recordConn)
		return rc
	}
	return nil
}
