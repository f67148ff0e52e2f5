package proxy

import (
	"container/heap"
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// handshakeSlots is the number of a tunnel's handshakes that may compute
// at once for max_handshakes n: n itself, or for 0 (or less)
// AutoHandshakesPerCPU per CPU Go runs on, and at least MinAutoHandshakes.
//
// One per CPU would keep the CPUs busy if handshakes had them to
// themselves; they do not. The goroutines carrying bulk traffic share the
// CPUs with them, each getting its turn, so a few slots give handshakes a
// few turns in many: a storm of 1,000 full handshakes (RSA 4096) beside 8
// bulk streams on 2 CPUs, which all completed within a 5 s
// handshake_timeout without the bound, lost 68% with 4 slots and 12% with
// 16, and none with 64. The bound is there to keep the accept order when a
// storm is far past what the CPUs can do in handshake_timeout, not to
// ration the CPUs among handshakes.
func handshakeSlots(n int) int {
	if n > 0 {
		return n
	}
	return max(AutoHandshakesPerCPU*runtime.GOMAXPROCS(0), MinAutoHandshakes)
}

// The bound max_handshakes = 0 gives: per CPU, and the least on any
// machine (check prints them; the CPUs are counted where the tunnel runs).
const (
	AutoHandshakesPerCPU = 32
	MinAutoHandshakes    = 64
)

// handshakeGate bounds how many of a tunnel's handshakes compute at once
// (max_handshakes). Without it a storm of new connections shares the CPUs
// between every handshake under way, so each takes as long as all of them
// together and, past handshake_timeout, they fail together, having spent
// the CPU for nothing. With it, CPU goes to finishing the handshakes
// already started: a connection that wants to compute waits for a slot,
// and waiters are served in accept order, so a handshake coming back from
// a wait on its peer goes before the connections accepted after it. A
// waiter leaves the queue when its handshake deadline passes (a handshake
// failure with reason timeout, as if the peer had been slow) or when the
// connection is aborted.
//
// Like handshakeTable it lives as long as the tunnel. A reload changes
// its bound at once (setLimit): the handshakes waiting then get slots under
// the new one; those computing keep theirs, and a lower bound is reached as
// they give them back.
type handshakeGate struct {
	mu    sync.Mutex
	limit int // slots in all (Options.hsSlots)
	busy  int // slots held
	queue gateQueue
	// waiting is len(queue), for Stats to read without mu.
	waiting atomic.Int64
}

// gateWaiter is one connection waiting for a slot.
type gateWaiter struct {
	accepted time.Time // the connection's, its place in the queue
	ready    chan struct{}
	index    int // in queue; -1 once out of it
}

// enter takes a slot at once and returns nil, or queues the connection
// accepted then and returns its waiter: the caller waits for w.ready,
// closed when the slot is its, or calls leave.
func (g *handshakeGate) enter(accepted time.Time) *gateWaiter {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 && g.busy < g.limit {
		g.busy++
		return nil
	}
	w := &gateWaiter{accepted: accepted, ready: make(chan struct{})}
	heap.Push(&g.queue, w)
	g.waiting.Add(1)
	g.dispatch() // w may come before those queued (an older connection)
	return w
}

// leave takes w out of the queue: its deadline passed or its connection
// was aborted. A slot granted meanwhile is given back.
func (g *handshakeGate) leave(w *gateWaiter) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w.index < 0 {
		g.busy--
	} else {
		heap.Remove(&g.queue, w.index)
		g.waiting.Add(-1)
	}
	g.dispatch()
}

// release gives back a slot enter or ready gave.
func (g *handshakeGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.busy--
	g.dispatch()
}

// setLimit sets the number of slots, at Listen and at every Update.
func (g *handshakeGate) setLimit(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limit = n
	g.dispatch()
}

// dispatch hands free slots to the waiters in accept order; g.mu is held.
func (g *handshakeGate) dispatch() {
	for len(g.queue) > 0 && g.busy < g.limit {
		w := heap.Pop(&g.queue).(*gateWaiter)
		g.waiting.Add(-1)
		g.busy++
		close(w.ready)
	}
}

// gateQueue orders waiters by accept order (container/heap).
type gateQueue []*gateWaiter

func (q gateQueue) Len() int           { return len(q) }
func (q gateQueue) Less(i, j int) bool { return q[i].accepted.Before(q[j].accepted) }
func (q gateQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

func (q *gateQueue) Push(x any) {
	w := x.(*gateWaiter)
	w.index = len(*q)
	*q = append(*q, w)
}

func (q *gateQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	w.index = -1
	return w
}

// errGateTimeout ends a handshake whose deadline passed while it waited for
// a slot. It is a timeout (see classifyHandshake): to the peer and in the
// metrics it is the handshake_timeout it ran into.
var errGateTimeout error = gateTimeout{}

type gateTimeout struct{}

func (gateTimeout) Error() string {
	return "handshake_timeout passed while the handshake waited for a slot (max_handshakes)"
}
func (gateTimeout) Timeout() bool   { return true }
func (gateTimeout) Temporary() bool { return false }

// handshakeSlot is a connection's use of its tunnel's gate during its
// handshake: the slot is taken when the handshake starts computing and
// given back whenever a read of it waits for the peer (pump.Waiter), and
// at its end. So a slot is held by work the CPUs can do now, never by a
// peer that is slow to answer or says nothing: a slowloris holds none.
// Only the goroutine running the handshake touches it.
type handshakeSlot struct {
	c        *conn
	gate     *handshakeGate
	deadline time.Time // zero: none
	held     bool
	// ctx bounds a wait in the queue by the deadline, and abort cancels
	// it; made at the first wait, as most handshakes never wait.
	ctx    context.Context
	cancel context.CancelFunc
}

// Wait gives the slot back while the handshake waits for its peer.
func (s *handshakeSlot) Wait() {
	if s.held {
		s.held = false
		s.gate.release()
	}
}

// Resume takes a slot again, waiting in accept order if none is free.
func (s *handshakeSlot) Resume() error {
	if s.held {
		return nil
	}
	w := s.gate.enter(s.c.start)
	if w != nil {
		if err := s.await(w); err != nil {
			return err
		}
	}
	s.held = true
	return nil
}

// await waits for w's slot until the deadline or an abort.
func (s *handshakeSlot) await(w *gateWaiter) error {
	if s.ctx == nil {
		if s.deadline.IsZero() {
			s.ctx, s.cancel = context.WithCancel(context.Background())
		} else {
			s.ctx, s.cancel = context.WithDeadline(context.Background(), s.deadline)
		}
		if !s.c.setInterrupt(s.cancel) {
			s.gate.leave(w)
			return errAborted
		}
	}
	select {
	case <-w.ready:
		return nil
	case <-s.ctx.Done():
	}
	s.gate.leave(w)
	if errors.Is(s.ctx.Err(), context.DeadlineExceeded) {
		return errGateTimeout
	}
	return errAborted
}

// end gives the slot back, once the handshake is over.
func (s *handshakeSlot) end() {
	s.Wait()
	if s.cancel != nil {
		s.c.setInterrupt(nil)
		s.cancel()
	}
}
