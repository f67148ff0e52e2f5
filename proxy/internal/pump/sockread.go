package pump

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// sockReader reads a socket through its syscall.RawConn into a pool buffer
// that it holds only while the buffer has unread bytes, or while bytes
// flow: a goroutine parked waiting for data holds none. The read happens
// inside RawConn.Read's callback, which parks only after the read saw
// EAGAIN: that is what the runtime's edge-triggered poller needs (bytes
// left queued by an earlier read raise no new edge), and it costs no
// separate readiness probe.
type sockReader struct {
	conn     net.Conn // for error messages
	rc       syscall.RawConn
	try      func(fd uintptr) bool // s.attempt, bound once: a closure per read would allocate
	buf      *[]byte
	off, end int
	// pre holds bytes to put in front of the next read, kept here rather
	// than in a buffer while waiting (recordConn's partial record header).
	pre  [recordHeaderLen]byte
	npre int
	err  error // the last attempt's
	// size is that of the buffer the next read takes (see attempt).
	size int
	// armed: a read deadline is set to notice that the goroutine reading
	// went idle (see ParkAfter); mark is the direction's byte count then.
	armed bool
	mark  int64
	// wait, during a handshake, hears when fill parks for the peer (see
	// Waiter); parked says it was told, and Resume is due.
	wait   Waiter
	parked bool
}

// newSockReader returns nil when c is not a socket it can read directly.
func newSockReader(c net.Conn) *sockReader {
	rc := rawConnOf(c)
	if rc == nil {
		return nil
	}
	s := &sockReader{conn: c, rc: rc, size: bulkBufSize}
	s.try = s.attempt
	return s
}

// fill waits until the socket has bytes, EOF or an error, and reads what
// it has into the buffer, after the bytes still unread (or in pre). An
// error comes with no new bytes.
func (s *sockReader) fill() error {
	s.err = nil
	if err := s.rc.Read(s.try); err != nil {
		if s.armed && errors.Is(err, os.ErrDeadlineExceeded) {
			return errIdle
		}
		return readError(s.conn, err)
	}
	return s.err
}

// resumed tells the Waiter that a fill which parked is over, with bytes
// for crypto/tls to work on (got), or with an error that ends the
// handshake, which then has nothing to resume; Resume's error fails the
// read.
func (s *sockReader) resumed(got bool) error {
	if !s.parked {
		return nil
	}
	s.parked = false
	if !got {
		return nil
	}
	return s.wait.Resume()
}

func (s *sockReader) attempt(fd uintptr) bool {
	k := 0
	switch {
	case s.buf == nil:
		s.buf = getBuf(s.size)
		k = copy(*s.buf, s.pre[:s.npre])
	case s.off == s.end && len(*s.buf) != s.size: // a kept buffer of the other size
		putBuf(s.buf)
		s.buf = getBuf(s.size)
	default:
		k = copy(*s.buf, s.unread()) // unread bytes stay in front
	}
	s.npre, s.off, s.end = 0, 0, k
	n, err := rawRead(fd, (*s.buf)[k:])
	if errAgain(err) {
		s.stash() // nothing queued: park without a buffer
		if s.wait != nil && !s.parked {
			s.parked = true
			s.wait.Wait()
		}
		return false
	}
	s.end += max(n, 0)
	// A read that filled the buffer left more queued: a bulk flow, which
	// takes large buffers until a read fills less than a quarter of one.
	switch {
	case s.end == len(*s.buf):
		s.size = largeBufSize
	case n < bulkBufSize/4:
		s.size = bulkBufSize
	}
	switch {
	case err != nil:
		s.err = readError(s.conn, os.NewSyscallError("read", err))
	case n == 0:
		s.err = io.EOF
	}
	if s.end == 0 {
		s.release()
	}
	return true
}

// stash gives the buffer back, moving the few bytes still unread (a
// partial record header) to pre. More than that keeps the buffer.
func (s *sockReader) stash() {
	if u := s.unread(); s.buf != nil && len(u) <= len(s.pre) {
		s.npre = copy(s.pre[:], u)
		s.release()
	}
}

func (s *sockReader) unread() []byte {
	if s.buf == nil {
		return nil
	}
	return (*s.buf)[s.off:s.end]
}

func (s *sockReader) release() {
	if s.buf != nil {
		putBuf(s.buf)
		s.buf, s.off, s.end = nil, 0, 0
	}
}

// readError shapes err like the errors of net.Conn.Read, which the logs
// and close reasons were written against ("raw-read" becomes "read").
func readError(c net.Conn, err error) error { return opError(c, "read", err) }

// opError is err as a *net.OpError of op on c: RawConn's own errors are
// relabelled ("raw-read" becomes "read"), others wrapped.
func opError(c net.Conn, op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		e := *oe
		e.Op = op
		return &e
	}
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// rawConnOf is c's syscall.RawConn, or nil when c is no socket the pump
// can read or write directly. The socket must be non-blocking, as the net
// package makes every socket: that is what keeps a raw call from blocking
// a thread the runtime does not know is in a system call.
func rawConnOf(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !rawSockSupported || !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	nonBlocking := false
	if rc.Control(func(fd uintptr) { nonBlocking = isNonBlocking(fd) }) != nil || !nonBlocking {
		return nil
	}
	return rc
}

// copySock forwards a socket source: sockReader waits holding no buffer,
// each read takes what is queued (up to the buffer's size) and that goes out in
// one write.
func (d *direction) copySock(s *sockReader) error {
	defer s.release()
	d.arm(s)
	for {
		err := s.fill()
		if err == errIdle {
			if err = d.idle(s); err != nil {
				return err // errMigrate, or the deadline could not be set
			}
			continue
		}
		if u := s.unread(); len(u) > 0 {
			s.off = s.end // consumed: the next fill reuses the buffer
			if werr := d.write(u); werr != nil {
				return werr
			}
			d.arm(s)
		}
		if err != nil {
			return err
		}
	}
}
