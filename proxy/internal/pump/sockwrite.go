package pump

import (
	"net"
	"os"
	"syscall"
	"time"
)

// sockWriter writes to a socket through its syscall.RawConn with rawWrite,
// which on Linux, unlike net.Conn.Write, does not tell the Go runtime that
// it is entering a system call (rawio_linux.go); sockReader reads the same
// way. That matters for traffic that comes as small exchanges (request,
// answer, quiet): once all of a process's threads are idle, its monitor
// thread sleeps, and the next system call the runtime hears of wakes it (a
// futex wake and a thread switch), after which the monitor naps in 20 µs
// steps until it finds the process idle again. That was on every message:
// per 64-byte echo the tunnel made three times stunnel's thread switches
// (docs/performance.md has the figures). A call on a
// non-blocking socket cannot block, so it need not be announced: EAGAIN
// parks the goroutine in the poller as net.Conn.Write would, and deadlines
// apply as they do there.
type sockWriter struct {
	conn net.Conn // for error messages
	rc   syscall.RawConn
	try  func(fd uintptr) bool // w.attempt, bound once: a closure per write would allocate
	p    []byte                // what is left to write
	n    int
	err  error
	// stall bounds a write that makes no progress, 0 = none; armed says a
	// write deadline is set, when w.n was armedAt (see stall.go).
	stall   time.Duration
	armed   bool
	armedAt int
}

// newSockWriter returns nil when c is not a socket it can write directly.
func newSockWriter(c net.Conn) *sockWriter {
	rc := rawConnOf(c)
	if rc == nil {
		return nil
	}
	return sockWriterOn(c, rc)
}

// sockWriterOn writes c through rc, which rawConnOf gave.
func sockWriterOn(c net.Conn, rc syscall.RawConn) *sockWriter {
	w := &sockWriter{conn: c, rc: rc}
	w.try = w.attempt
	return w
}

// Write writes all of p, as net.Conn.Write does, or fails. Callers
// serialize their writes (as net.Conn's lock would).
func (w *sockWriter) Write(p []byte) (int, error) {
	w.p, w.n, w.err = p, 0, nil
	err := w.disarm(w.rc.Write(w.try))
	n := w.n
	w.p = nil
	if err == nil {
		err = w.err
	}
	if err != nil {
		return n, opError(w.conn, "write", err)
	}
	return n, nil
}

func (w *sockWriter) attempt(fd uintptr) bool {
	for len(w.p) > 0 {
		n, err := rawWrite(fd, w.p)
		if errAgain(err) {
			w.arm()
			return false // park until writable; what is left stays in w.p
		}
		if err != nil {
			w.err = os.NewSyscallError("write", err)
			return true
		}
		w.n += n
		w.p = w.p[n:]
	}
	return true
}
