// Package pump is the tunnel's data path: it copies the bytes of a
// connection both ways, with half-close, holding a buffer only while bytes
// flow and, where it can, no goroutine while a direction is idle. It reads
// and writes sockets directly through their descriptors (rawio*.go,
// sockread.go, sockwrite.go), gathers TLS records under a tls.Conn
// (records*.go) and parks idle directions in epoll (park*.go). It is the
// only code of package proxy that speaks to the operating system.
//
// Its API is small: Records and WithBudget prepare the connection a
// tls.Conn is made on, New/Send/Start/Wake run a connection's two
// directions, CloseWrite half-closes.
package pump

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// Way is one direction of a connection: what is read from Src is written
// to Dst and added to Total.
type Way struct {
	Src, Dst net.Conn
	Total    *atomic.Uint64 // tunnel-wide byte counter
}

// Events are what a Pump tells the connection it runs.
type Events struct {
	// Touch, if not nil, marks activity (for an idle timeout) around every
	// write.
	Touch func()
	// Abort must close both connections, so the other direction unblocks;
	// a direction that fails calls it with its error and whether the error
	// came from the target's side (see Failure).
	Abort func(Failure)
	// HalfClosed, if not nil, is called when one direction ended with EOF
	// and the other goes on (the connection's close_timeout starts).
	HalfClosed func()
	// Done gets the first real failure (Err nil when both directions ended
	// with EOF) and the bytes each direction wrote.
	Done func(f Failure, up, down int64)
}

// Failure is how a direction ended. AtTarget says the error came from the
// target's side: up's destination, which is down's source (a read from
// the target or a write to it failed). The tunnel answers a target that
// reset with a reset of its own toward the accepted peer.
type Failure struct {
	Err      error
	AtTarget bool
}

// Pump runs both directions of a connection, each on a goroutine of its
// own, until each has ended, then calls Done on the goroutine that
// finished last. A direction that reaches EOF half-closes its destination
// and leaves the other direction running; a direction that fails calls
// Abort.
//
// The goroutine that made the connection is free to exit meanwhile, and
// should: it grew its stack in the handshake and the dial, and the GC never
// shrinks a stack below four times what is in use. A direction that went
// idle gives up its goroutine too (see ParkAfter and parkIdle), so an idle
// connection holds no buffer and, where it can, no goroutine.
type Pump struct {
	ev   Events
	dirs [2]*direction
	ends [2]Failure // each written by its own direction, read by the last
	left atomic.Int32
	// parked[i] identifies dirs[i] in the idle set while it waits there;
	// closing: no more parking (see Wake). Both under the idle set's lock.
	parked  [2]uint64
	closing bool
}

// New prepares the pump of a connection: up from the accepted side to the
// target, down back. A write to either side that makes no progress for
// stall (write_timeout; 0 = no bound) fails with ErrWriteStalled.
func New(up, down Way, stall time.Duration, ev Events) *Pump {
	p := &Pump{ev: ev, dirs: [2]*direction{
		{src: up.Src, dst: up.Dst, total: up.Total, touch: ev.Touch, stall: stall},
		{src: down.Src, dst: down.Dst, total: down.Total, touch: ev.Touch, stall: stall},
	}}
	for _, d := range p.dirs {
		if rc := d.batchTo(); rc != nil {
			rc.setStall(stall)
		}
	}
	p.left.Store(2)
	return p
}

// Send writes b to up's destination before Start, counted as up's bytes
// (the cleartext that came along with a PROXY header).
func (p *Pump) Send(b []byte) error { return p.dirs[0].write(b) }

// Start runs both directions; done ends the connection.
func (p *Pump) Start() {
	go p.run(0)
	go p.run(1)
}

func (p *Pump) run(i int) {
	d := p.dirs[i]
	err := d.run()
	if err == errMigrate {
		if !parkIdle(p, i) {
			go p.run(i) // no idle set here: carry on with a small stack
		}
		return
	}
	// Up reads the peer and writes the target, down the other way round.
	p.ends[i] = Failure{Err: err, AtTarget: (i == 0) == d.writeFailed}
	if err != nil {
		p.ev.Abort(p.ends[i])
	}
	switch left := p.left.Add(-1); {
	case left == 0: // the atomic orders the other direction's write before this read
		p.ev.Done(firstFailure(p.ends[0], p.ends[1]), p.dirs[0].n, p.dirs[1].n)
	case err == nil && p.ev.HalfClosed != nil:
		p.ev.HalfClosed()
	}
}

// Wake resumes the directions parked in the idle set, to find their
// sockets closed: whatever closes the connection's sockets calls it first
// (a socket closed while registered leaves the set without an event).
func (p *Pump) Wake() {
	for i := range p.dirs {
		unparkIdle(p, i)
	}
}

// firstFailure prefers an error that is not the consequence of abort
// closing the connection under the other direction.
func firstFailure(a, b Failure) Failure {
	if a.Err != nil && !errors.Is(a.Err, net.ErrClosed) {
		return a
	}
	if b.Err != nil && !errors.Is(b.Err, net.ErrClosed) {
		return b
	}
	if a.Err != nil {
		return a
	}
	return b
}
