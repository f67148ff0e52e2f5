package pump

import (
	"crypto/tls"
	"errors"
	"net"
)

// recordHeaderLen is the size of a TLS record header: type, version, and
// the length of the body that follows.
const recordHeaderLen = 5

// errWouldBlock is what recordConn.Read returns to a tls.Conn when asked
// not to wait and no bytes are buffered. It is a temporary net.Error, which
// crypto/tls passes up without breaking the connection (as it does for a
// read deadline): the next Read carries on where this one stopped.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "passtunnel: no complete TLS record buffered" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

var _ net.Error = wouldBlock{}

// recordConn sits between a tls.Conn and its socket and hands the tls.Conn
// at most one TLS record per Read, from big socket reads it buffers. So,
// after a tls.Conn.Read into a buffer of at least maxTLSRecord returns,
// every byte received but not yet returned to the pump is visible here:
// none is hidden in the tls.Conn, except a record still incomplete there,
// whose rest must come from the socket anyway. That lets the pump (see
// copyRecords)
//   - wait for the socket without a goroutine blocked in tls.Conn.Read and
//     without holding any buffer (sockReader), and
//   - gather every record already received into one write to the
//     cleartext side, stopping (noWait) as soon as one is incomplete
//     rather than blocking with decrypted bytes not yet passed on.
//
// Only the goroutine reading the tls.Conn (the handshake, then the pump)
// calls Read, so none of the read side is locked. Writes may be gathered
// (see records_write.go); Close and the rest go straight to the socket.
type recordConn struct {
	net.Conn
	s *sockReader
	// left is what remains of the current record, header included, to hand
	// to the tls.Conn; 0 at a record boundary.
	left int
	// noWait makes Read return errWouldBlock instead of reading the socket.
	noWait bool
	// err ends the stream once the bytes before it are handed over.
	err error
	w   writeBatch // see records_write.go
	// out writes to the socket, on s's descriptor (see sockWriter).
	out *sockWriter
	// budget bounds what the peer sends until the handshake is over; nil
	// after it (see WithBudget).
	budget *budget
}

// Records returns the connection a tls.Conn is to be made on over the
// socket c: a recordConn, which hands the tls.Conn one record at a time
// (see above), with early (bytes already read from c, such as those that
// came with a PROXY header) as the first buffered ones. It returns nil when
// c is no socket sockReader can read, or early does not fit a buffer: the
// caller then makes the tls.Conn on c itself, and the pump falls back on
// copyTLS.
func Records(c net.Conn, early []byte) net.Conn {
	s := newSockReader(c)
	if s == nil || len(early) > bulkBufSize {
		return nil
	}
	if len(early) > 0 {
		s.buf = getBuf(s.size)
		s.end = copy(*s.buf, early)
	}
	return &recordConn{Conn: c, s: s, out: sockWriterOn(c, s.rc)}
}

func (r *recordConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if n := r.handOver(p); n > 0 {
			if r.budget != nil {
				if err := r.budget.spend(n); err != nil {
					r.err = err
					return 0, err
				}
			}
			return n, nil
		}
		switch {
		case r.err != nil:
			return 0, r.err
		case r.noWait:
			return 0, errWouldBlock
		}
		r.err = r.s.fill() // an error comes with no bytes: it ends the stream
		if err := r.s.resumed(r.err == nil); err != nil {
			r.err = err // the handshake is over: nothing more goes to crypto/tls
			return 0, err
		}
	}
}

// handOver copies buffered bytes of the current record into p. A partial
// header moves into s.pre, so that waiting for its rest holds no buffer.
func (r *recordConn) handOver(p []byte) int {
	u := r.s.unread()
	if r.left == 0 {
		if len(u) < recordHeaderLen {
			r.s.stash()
			return 0
		}
		r.left = recordHeaderLen + (int(u[3])<<8 | int(u[4]))
	}
	n := copy(p, u[:min(len(u), r.left)])
	r.s.off += n
	r.left -= n
	if r.s.off == r.s.end {
		r.s.release()
	}
	return n
}

// buffered reports whether a Read would hand over bytes or an error
// without reading the socket.
func (r *recordConn) buffered() bool {
	u := r.s.unread()
	return r.err != nil || len(u) > 0 && (r.left > 0 || len(u) >= recordHeaderLen)
}

// await parks until the socket has bytes (or EOF, or an error) and reads
// them; it holds no buffer while parked. Call it when !buffered(). It
// returns errIdle, and nothing else: errors are for Read to hand over.
func (r *recordConn) await() error {
	if r.err != nil {
		return nil
	}
	err := r.s.fill()
	if err == errIdle {
		return err
	}
	r.err = err
	return nil
}

// release gives the buffer back: the connection is over.
func (r *recordConn) release() { r.s.release() }

// CloseWrite passes a half-close to the socket, as CloseWrite expects of
// what a tls.Conn runs on.
func (r *recordConn) CloseWrite() error { return CloseWrite(r.Conn) }

// copyRecords forwards a TLS source that reads through a recordConn. It
// waits for the socket holding no buffer, then decrypts every record that
// has arrived into one pool buffer and writes them to dst in one call. It
// never waits while holding decrypted bytes: as soon as the next record is
// incomplete (errWouldBlock), what it has goes out first.
func (d *direction) copyRecords(tc *tls.Conn, rc *recordConn) error {
	var bp *[]byte
	n := 0
	flush := func() error {
		err := d.write((*bp)[:n])
		n = 0
		return err
	}
	defer func() {
		if bp != nil {
			putBuf(bp)
		}
		rc.release()
	}()
	d.arm(rc.s)
	for {
		if !rc.buffered() {
			if bp != nil {
				if err := flush(); err != nil {
					return err
				}
				putBuf(bp)
				bp = nil
				d.arm(rc.s)
			}
			if err := rc.await(); err != nil {
				if err = d.idle(rc.s); err != nil {
					return err // errMigrate, or the deadline could not be set
				}
			}
			continue
		}
		if bp == nil {
			bp = getBuf(rc.s.size) // room for all a read of that size decrypts to
		}
		// A record must fit whole: the rest of one would stay in the
		// tls.Conn, where buffered cannot see it.
		if len(*bp)-n < maxTLSRecord {
			if err := flush(); err != nil {
				return err
			}
		}
		rc.noWait = true
		m, err := tc.Read((*bp)[n:])
		rc.noWait = false
		n += m
		if err != nil && !errors.Is(err, errWouldBlock) {
			if werr := flush(); werr != nil {
				return werr
			}
			return err
		}
	}
}
