package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"time"
)

// headerTimeout bounds the wait for a transfer's header: the tunnels pass
// it on as soon as the client wrote it.
const headerTimeout = 30 * time.Second

// backendReport is what the backend saw of one transfer: the request as
// received, the reply as sent.
type backendReport struct {
	reqGot, reqChecked, reqLost, reqCorrupted int64
	reqDigest                                 [32]byte
	respSent                                  int64
	respDigest                                [32]byte
	readErr, writeErr                         error
}

// reports hands each backend report to the worker that runs the transfer,
// found by the id in its header.
type reports struct {
	mu      sync.Mutex
	waiting map[uint64]chan backendReport
}

func newReports() *reports { return &reports{waiting: map[uint64]chan backendReport{}} }

// expect is called before the transfer starts; forget when it is over.
func (r *reports) expect(id uint64) <-chan backendReport {
	ch := make(chan backendReport, 1)
	r.mu.Lock()
	r.waiting[id] = ch
	r.mu.Unlock()
	return ch
}

func (r *reports) forget(id uint64) {
	r.mu.Lock()
	delete(r.waiting, id)
	r.mu.Unlock()
}

// deliver drops a report nobody waits for any more: its worker gave up on
// the transfer and has counted that already.
func (r *reports) deliver(id uint64, rep backendReport) {
	r.mu.Lock()
	ch := r.waiting[id]
	r.mu.Unlock()
	if ch != nil {
		select {
		case ch <- rep:
		default:
		}
	}
}

// backend is the server tunnel's target: it reads each transfer's header
// and plays its side, checking the request as it arrives.
type backend struct {
	ln      *net.TCPListener
	reports *reports
	tally   *tally
	wg      sync.WaitGroup
}

func startBackend(reports *reports, tally *tally) (*backend, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("backend: listen: %w", err)
	}
	b := &backend{ln: ln, reports: reports, tally: tally}
	b.wg.Go(b.serve)
	return b, nil
}

func (b *backend) addr() string { return b.ln.Addr().String() }

func (b *backend) serve() {
	for {
		c, err := b.ln.AcceptTCP()
		if err != nil {
			return // closed
		}
		b.wg.Go(func() { b.handle(c) })
	}
}

// close stops accepting and waits for the transfers in progress, which
// their deadlines bound.
func (b *backend) close() {
	b.ln.Close()
	b.wg.Wait()
}

func (b *backend) handle(c *net.TCPConn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(headerTimeout))
	h, err := readHeader(c)
	if errors.Is(err, errNoHeader) {
		return // a flood's or an abandoned connection, passed on by the tunnels
	}
	if err != nil {
		b.tally.fail("damaged header", "backend from %v: %v", c.RemoteAddr(), err)
		return
	}
	c.SetDeadline(time.Now().Add(transferTimeout))
	rep := exchange(c, h)
	b.reports.deliver(h.id, rep)
	if h.mode == resetMidStream {
		c.SetLinger(0) // Close sends a reset
	}
}

// exchange plays the backend's side of a transfer in the order its mode
// asks for.
func exchange(c *net.TCPConn, h header) backendReport {
	rnd := rand.New(rand.NewPCG(h.seed, h.id))
	out := newSender(newPayload(h.seed, h.id, dirResponse, h.respLen), rnd)
	in := newChecker(newPayload(h.seed, h.id, dirRequest, h.reqLen), h.reqLen)
	var rep backendReport
	switch h.mode {
	case clientFirst:
		rep.readErr = receive(c, in, -1)
		time.Sleep(h.pause)
		rep.writeErr = sendAndClose(c, out, -1)
	case backendFirst, bothAtOnce:
		wrote := make(chan error, 1)
		go func() { wrote <- sendAndClose(c, out, -1) }()
		rep.readErr = receive(c, in, -1)
		rep.writeErr = <-wrote
	case resetMidStream:
		wrote := make(chan error, 1)
		go func() { wrote <- out.sendN(c, h.resetAfterResp, make([]byte, 32<<10)) }()
		rep.readErr = receive(c, in, h.resetAfterReq)
		rep.writeErr = <-wrote
	}
	rep.reqGot, rep.reqChecked, rep.reqLost, rep.reqCorrupted = in.got, in.checked(), in.lost(), in.corrupted
	rep.reqDigest, rep.respSent, rep.respDigest = in.digest(), out.sent, out.digest()
	return rep
}

// sendAndClose sends n bytes of the payload (all if n < 0) and closes the
// sending side: the peer reads an end, not a reset.
func sendAndClose(c *net.TCPConn, s *sender, n int64) error {
	if err := s.sendN(c, n, make([]byte, 32<<10)); err != nil {
		return fmt.Errorf("write after %d bytes: %w", s.sent, err)
	}
	if err := c.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	return nil
}

// receive reads into chk up to the peer's end (n < 0), or exactly n bytes.
func receive(c net.Conn, chk *checker, n int64) error {
	buf := make([]byte, 32<<10)
	var err error
	if n < 0 {
		_, err = io.CopyBuffer(chk, struct{ io.Reader }{c}, buf)
	} else {
		_, err = io.CopyBuffer(chk, io.LimitReader(c, n), buf)
		if err == nil && chk.got < n {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", chk.got, err)
	}
	return nil
}

// refusedTarget is a loopback port bound but never listening: every dial
// to it is refused at once, as a target that is down. Holding the port
// keeps another process from taking it for the run.
type refusedTarget struct {
	fd   int
	addr string
}

func newRefusedTarget() (*refusedTarget, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("refused target: socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("refused target: bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("refused target: getsockname: %w", err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	return &refusedTarget{fd: fd, addr: fmt.Sprintf("127.0.0.1:%d", port)}, nil
}

func (r *refusedTarget) close() { syscall.Close(r.fd) }
