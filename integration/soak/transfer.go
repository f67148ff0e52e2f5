package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"time"
)

// Bounds of one transfer. transferTimeout is far above what the largest
// transfer takes on a loaded machine: a transfer that hits it has hung.
const (
	dialTimeout     = 10 * time.Second
	transferTimeout = 2 * time.Minute
	// reportWait bounds the wait for the backend's report once the client
	// is done: it has the request's end by then, or soon.
	reportWait = 30 * time.Second
)

// clientSide is what the client of a transfer sent, received and met.
type clientSide struct {
	out *sender
	in  *checker
	err error
}

// runClient plays the client's side of p in the order its mode asks for.
func runClient(p plan, rnd *rand.Rand) clientSide {
	h := p.h
	cs := clientSide{
		out: newSender(newPayload(h.seed, h.id, dirRequest, h.reqLen), rnd),
		in:  newChecker(newPayload(h.seed, h.id, dirResponse, h.respLen), h.respLen),
	}
	c, err := net.DialTimeout("tcp", p.addr, dialTimeout)
	if err != nil {
		cs.err = fmt.Errorf("dial %s: %w", p.addr, err)
		return cs
	}
	conn := c.(*net.TCPConn)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(transferTimeout))
	if _, err := conn.Write(h.marshal()); err != nil {
		cs.err = fmt.Errorf("write header: %w", err)
		return cs
	}
	switch h.mode {
	case clientFirst:
		if cs.err = sendAndClose(conn, cs.out, -1); cs.err == nil {
			cs.err = receive(conn, cs.in, -1)
		}
	case backendFirst:
		// Half the request goes before the reply is read to its end, the
		// rest after: the backend has closed its side while the client
		// still sends.
		if cs.err = cs.out.sendN(conn, h.reqLen/2, make([]byte, 32<<10)); cs.err != nil {
			cs.err = fmt.Errorf("write after %d bytes: %w", cs.out.sent, cs.err)
			return cs
		}
		if cs.err = receive(conn, cs.in, -1); cs.err == nil {
			time.Sleep(h.pause)
			cs.err = sendAndClose(conn, cs.out, -1)
		}
	case bothAtOnce, resetMidStream:
		wrote := make(chan error, 1)
		go func() { wrote <- sendInTwo(conn, cs.out, h) }()
		readErr := receive(conn, cs.in, -1)
		cs.err = errors.Join(readErr, <-wrote)
	}
	return cs
}

// sendInTwo sends the request with the header's pause halfway.
func sendInTwo(conn *net.TCPConn, s *sender, h header) error {
	if h.pause > 0 {
		if err := s.sendN(conn, h.reqLen/2, make([]byte, 32<<10)); err != nil {
			return fmt.Errorf("write after %d bytes: %w", s.sent, err)
		}
		time.Sleep(h.pause)
	}
	return sendAndClose(conn, s, -1)
}

// transferVerdict is a finished transfer, both sides' views together.
type transferVerdict struct {
	p            plan
	cs           clientSide
	rep          *backendReport // nil: the backend never reported
	took         time.Duration
	acrossReload bool // a reload began while it ran
}

// bytes counts the bytes checked, lost and corrupted over both
// directions. Lost bytes are those one side handed to its socket that the
// other never received.
func (v transferVerdict) bytes() (checked, lost, corrupted int64) {
	checked, corrupted = v.cs.in.checked(), v.cs.in.corrupted
	if v.rep == nil {
		return checked, v.cs.out.sent, corrupted
	}
	checked += v.rep.reqChecked
	corrupted += v.rep.reqCorrupted
	lost = max(0, v.cs.out.sent-v.rep.reqGot) + max(0, v.rep.respSent-v.cs.in.got)
	return checked, lost, corrupted
}

// problem says what went wrong with a healthy transfer, "" if nothing:
// the failure's kind and a description of it.
func (v transferVerdict) problem() (kind, detail string) {
	_, lost, corrupted := v.bytes()
	cs, rep, h := v.cs, v.rep, v.p.h
	seen := ""
	if cs.err != nil {
		seen = "; the client met: " + cs.err.Error()
	}
	switch {
	case corrupted > 0:
		return "corrupted bytes", fmt.Sprintf("%d bytes corrupted%s", corrupted, seen)
	case lost > 0:
		return "lost bytes", fmt.Sprintf("%d bytes lost%s", lost, seen)
	case cs.err != nil:
		return errorKind(cs.err), cs.err.Error()
	case rep == nil:
		return "no backend report", "the backend never reported the transfer"
	case rep.readErr != nil || rep.writeErr != nil:
		return "backend error", errors.Join(rep.readErr, rep.writeErr).Error()
	case cs.out.sent != h.reqLen || rep.reqGot != h.reqLen:
		return "short transfer", fmt.Sprintf("request: %d sent, %d received of %d", cs.out.sent, rep.reqGot, h.reqLen)
	case rep.respSent != h.respLen || cs.in.got != h.respLen:
		return "short transfer", fmt.Sprintf("reply: %d sent, %d received of %d", rep.respSent, cs.in.got, h.respLen)
	case rep.reqDigest != cs.out.digest() || rep.respDigest != cs.in.digest():
		return "digest mismatch", "SHA-256 of what was sent and what was received differ"
	}
	return "", ""
}

// faultProblem says what went wrong with a transfer that injected a
// fault: only bytes that arrived wrong, or a request cut before the point
// where the backend was to break it.
func (v transferVerdict) faultProblem() (kind, detail string) {
	if _, _, corrupted := v.bytes(); corrupted > 0 {
		return "corrupted bytes", fmt.Sprintf("%d bytes corrupted", corrupted)
	}
	if v.p.fault != faultReset {
		return "", ""
	}
	if v.rep == nil {
		return "cut before the fault", "the backend never got the transfer it was to reset"
	}
	if v.rep.readErr != nil {
		return "cut before the fault", fmt.Sprintf("the backend got %d of the %d request bytes it was to read before the reset: %v",
			v.rep.reqGot, v.p.h.resetAfterReq, v.rep.readErr)
	}
	return "", ""
}

// errorKind names a client error for the failures table.
func errorKind(err error) string {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "transfer timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	}
	if errno, ok := errors.AsType[syscall.Errno](err); ok {
		return errno.Error()
	}
	return "transfer error"
}
