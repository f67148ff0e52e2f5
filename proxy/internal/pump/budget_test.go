package pump

import (
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// waitLog is a Waiter that records its calls; Resume fails with fail.
type waitLog struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (w *waitLog) Wait() { w.add("wait") }

func (w *waitLog) Resume() error {
	w.add("resume")
	return w.fail
}

func (w *waitLog) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, s)
}

func (w *waitLog) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = nil
}

func (w *waitLog) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

// budgetOn is a budgeted connection over the server end of a TCP pair,
// through a recordConn or (plain) without one, with w as its Waiter.
func budgetOn(t *testing.T, plain bool, w Waiter) (peer, c net.Conn) {
	a, b := tcpPair(t)
	var nc net.Conn = b
	if !plain {
		if nc = Records(b, nil); nc == nil {
			t.Skip("no recordConn on this platform")
		}
	}
	_ = b.SetDeadline(time.Now().Add(10 * time.Second))
	return a, WithBudget(nc, 1<<20, errors.New("over"), w)
}

// record is one TLS record header and body: a recordConn hands over whole
// records only.
func record(body string) []byte {
	return append([]byte{23, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func TestWaiterToldOnlyOfWaits(t *testing.T) {
	w := &waitLog{}
	peer, c := budgetOn(t, false, w)
	rec := record("hello")
	if _, err := peer.Write(rec); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(rec))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	// The bytes may have arrived before the read or during it: a wait is
	// told only if the read found nothing, and then it is resumed.
	if got := w.got(); len(got) != 0 && !slices.Equal(got, []string{"wait", "resume"}) {
		t.Fatalf("calls %v for bytes that came at once", got)
	}
	w.reset()

	read := make(chan error, 1)
	go func() { _, err := io.ReadFull(c, buf); read <- err }()
	waitFor(t, func() bool { return slices.Equal(w.got(), []string{"wait"}) }, "the read to tell its wait")
	if _, err := peer.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if got := w.got(); !slices.Equal(got, []string{"wait", "resume"}) {
		t.Errorf("calls %v, want a wait resumed once the bytes came", got)
	}

	EndBudget(c) // the handshake is over: the pump's waits are nobody's business
	w.reset()
	go func() { _, err := io.ReadFull(c, buf); read <- err }()
	if _, err := peer.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if got := w.got(); len(got) != 0 {
		t.Errorf("calls %v after EndBudget", got)
	}
}

func TestWaiterResumeErrorFailsRead(t *testing.T) {
	for _, plain := range []bool{false, true} {
		fail := errors.New("no slot")
		w := &waitLog{fail: fail}
		peer, c := budgetOn(t, plain, w)
		read := make(chan error, 1)
		go func() { _, err := c.Read(make([]byte, 64)); read <- err }()
		waitFor(t, func() bool { return len(w.got()) > 0 }, "the read to tell its wait")
		if _, err := peer.Write(record("late")); err != nil {
			t.Fatal(err)
		}
		if err := <-read; !errors.Is(err, fail) {
			t.Errorf("plain %v: read = %v, want Resume's error", plain, err)
		}
	}
}

func TestWaiterNotResumedAtEOF(t *testing.T) {
	for _, plain := range []bool{false, true} {
		w := &waitLog{}
		peer, c := budgetOn(t, plain, w)
		read := make(chan error, 1)
		go func() { _, err := c.Read(make([]byte, 64)); read <- err }()
		waitFor(t, func() bool { return len(w.got()) > 0 }, "the read to tell its wait")
		peer.Close()
		if err := <-read; !errors.Is(err, io.EOF) {
			t.Errorf("plain %v: read = %v, want EOF", plain, err)
		}
		if got := w.got(); !slices.Equal(got, []string{"wait"}) {
			t.Errorf("plain %v: calls %v, want the wait only: nothing to compute after EOF", plain, got)
		}
	}
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	testwait.Until(t, 10*time.Second, what, cond)
}
