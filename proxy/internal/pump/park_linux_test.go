package pump

import (
	"io"
	"sync/atomic"
	"testing"
	"time"
)

// TestWokenConnectionResumesBothWays: bytes that wake one direction of an
// idle connection take the other direction out of the idle set too, before
// any answer comes, so that the answer does not wait on the set's loop.
func TestWokenConnectionResumesBothWays(t *testing.T) {
	client, peer := tcpPair(t)
	target, backend := tcpPair(t)
	p := New(Way{Src: peer, Dst: target, Total: new(atomic.Uint64)},
		Way{Src: target, Dst: peer, Total: new(atomic.Uint64)}, 0,
		Events{Touch: func() {}, Abort: func(Failure) {}, Done: func(Failure, int64, int64) {}})
	p.Start()
	t.Cleanup(p.Wake) // before the pairs close their sockets
	inSet := func(i int) (uint64, bool) {
		idle.mu.Lock()
		defer idle.mu.Unlock()
		e, ok := idle.entries[p.parked[i]]
		return p.parked[i], ok && e.p == p
	}
	var downTok uint64
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(ParkAfter / 10) {
		_, up := inSet(0)
		tok, down := inSet(1)
		if up && down {
			downTok = tok
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("directions not both parked after %v", waitLimit)
		}
	}
	msg := []byte("request")
	if _, err := client.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	backend.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadFull(backend, got); err != nil || string(got) != string(msg) {
		t.Fatalf("target read %q, %v", got, err)
	}
	idle.mu.Lock()
	_, still := idle.entries[downTok]
	idle.mu.Unlock()
	if still {
		t.Fatal("the answer's direction is still parked from before the request")
	}
	if _, err := backend.Write([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadFull(client, got[:6]); err != nil || string(got[:6]) != "answer" {
		t.Fatalf("client read %q, %v", got[:6], err)
	}
}
