package pump

import (
	"crypto/tls"
	"os"
	"sync"
	"syscall"
	"time"
)

// The idle set holds the directions that went idle (see ParkAfter), with
// no goroutine: each waits as an entry in an epoll instance of its own, and
// one goroutine, running only while the set is not empty, resumes a
// direction on a goroutine when its socket has bytes, EOF or an error. The
// runtime's poller cannot do this: it parks a goroutine per socket. An idle
// connection then costs its heap objects alone, a few KiB less than with
// two parked goroutines (two minimal stacks and goroutine descriptors).
//
// That goroutine waits in the runtime's poller too, on the epoll instance
// (which is readable while it has events), rather than blocked in
// epoll_wait: a resumed direction then starts on the same thread at once,
// instead of after a thread handoff (tens of microseconds on a VM).
//
// A socket closed while registered leaves the epoll set without an event,
// so whatever closes a pumped connection's sockets wakes its parked
// directions first (proxy.conn.abort, through its interrupt, calls Pump.Wake),
// and they find the sockets closed. Every change to the set and to the
// epoll registrations happens under idle.mu, and a direction is resumed by
// whoever removes its entry: exactly once, and never after its descriptor
// could have been closed and reused.
var idle struct {
	mu      sync.Mutex
	epfd    int             // 0: not made yet; -1: epoll unavailable
	file    *os.File        // epfd in the runtime's poller
	rc      syscall.RawConn // of file
	next    uint64
	entries map[uint64]idleEntry
	running bool // the goroutine of idleLoop
}

type idleEntry struct {
	p  *Pump
	i  int
	fd int
}

// parkIdle registers direction i of p in the idle set, which resumes it
// with p.run(i) later; false when it cannot (the caller then keeps a
// goroutine for it).
func parkIdle(p *Pump, i int) bool {
	d := p.dirs[i]
	s := d.sock
	if tc, ok := d.src.(*tls.Conn); ok {
		rc, _ := tc.NetConn().(*recordConn)
		if rc == nil {
			return false
		}
		s = rc.s
	}
	if s == nil {
		return false
	}
	idle.mu.Lock()
	defer idle.mu.Unlock()
	if p.closing {
		return false // its sockets are about to close: nothing would wake it
	}
	if idle.epfd == 0 {
		idle.epfd, idle.file, idle.rc = newIdleEpoll()
		idle.entries = make(map[uint64]idleEntry)
	}
	if idle.epfd < 0 {
		return false
	}
	idle.next++
	tok := idle.next
	ok := false
	cerr := s.rc.Control(func(fd uintptr) {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT}
		putToken(&ev, tok)
		if syscall.EpollCtl(idle.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) == nil {
			idle.entries[tok] = idleEntry{p: p, i: i, fd: int(fd)}
			p.parked[i] = tok
			ok = true
		}
	})
	if cerr != nil || !ok {
		return false
	}
	if !idle.running {
		idle.running = true
		go idleLoop()
	}
	return true
}

// unparkIdle resumes direction i of p if it is in the idle set, for good:
// p's sockets are about to close.
func unparkIdle(p *Pump, i int) {
	idle.mu.Lock()
	p.closing = true
	e, ok := idle.entries[p.parked[i]]
	if ok && e.p == p {
		removeIdle(p.parked[i], e)
		if len(idle.entries) == 0 {
			idle.file.SetReadDeadline(time.Now()) // idleLoop: nothing left to wait for
		}
	}
	idle.mu.Unlock()
	if ok && e.p == p {
		go p.run(i)
	}
}

// removeIdle takes an entry out of the set; the caller holds idle.mu.
func removeIdle(tok uint64, e idleEntry) {
	delete(idle.entries, tok)
	syscall.EpollCtl(idle.epfd, syscall.EPOLL_CTL_DEL, e.fd, nil) // the socket is still open
}

// The token of an entry is the epoll_event's 64-bit data, which package
// syscall splits into Fd and Pad.
func putToken(ev *syscall.EpollEvent, tok uint64) {
	ev.Fd, ev.Pad = int32(uint32(tok)), int32(uint32(tok>>32))
}

func token(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// newIdleEpoll makes the epoll instance, registered in the runtime's
// poller; -1 when it cannot.
func newIdleEpoll() (int, *os.File, syscall.RawConn) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return -1, nil, nil
	}
	if syscall.SetNonblock(fd, true) == nil { // os.NewFile polls only non-blocking descriptors
		f := os.NewFile(uintptr(fd), "passtunnel-idle")
		if rc, err := f.SyscallConn(); err == nil {
			return fd, f, rc
		}
	}
	syscall.Close(fd)
	return -1, nil, nil
}

// idleLoop resumes the directions whose sockets have events, and returns
// once the set is empty (parkIdle starts it again).
func idleLoop() {
	events := make([]syscall.EpollEvent, 64)
	for {
		n, stop := 0, false
		// The runtime's poller is edge-triggered: wait only after seeing
		// no event, which the callback does before anything else.
		err := idle.rc.Read(func(fd uintptr) bool {
			if n, _ = syscall.EpollWait(int(fd), events, 0); n > 0 {
				return true
			}
			idle.mu.Lock()
			defer idle.mu.Unlock()
			if len(idle.entries) == 0 {
				idle.running, stop = false, true
			}
			return stop
		})
		if stop {
			return
		}
		if err != nil { // the deadline set by unparkIdle: check the set again
			idle.file.SetReadDeadline(time.Time{})
			continue
		}
		var resume []idleEntry
		idle.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			tok := token(&ev)
			if e, ok := idle.entries[tok]; ok {
				removeIdle(tok, e)
				resume = append(resume, e)
				resume = append(resume, takeSibling(e)...)
			}
		}
		idle.mu.Unlock()
		for _, e := range resume {
			go e.p.run(e.i)
		}
	}
}

// takeSibling takes the other direction of e's connection out of the set,
// if it is there, for resuming with e; the caller holds idle.mu. Bytes
// that wake one direction of an idle connection are most often a request,
// and the answer comes back the other way within a round trip: waiting in
// the runtime's poller, that direction gets it without a hop through this
// set (an epoll_wait, a goroutine start and a thread wake-up more). The
// pair parks again together after ParkAfter without traffic.
func takeSibling(e idleEntry) []idleEntry {
	tok := e.p.parked[1-e.i]
	o, ok := idle.entries[tok]
	if !ok || o.p != e.p {
		return nil
	}
	removeIdle(tok, o)
	return []idleEntry{o}
}
