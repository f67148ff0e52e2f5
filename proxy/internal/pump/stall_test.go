package pump

import (
	"errors"
	"net"
	"testing"
	"time"
)

// A peer that never reads: the write fails with ErrWriteStalled once the
// socket is full and no byte went for the stall bound, and the deadline it
// set is disarmed afterwards.
func TestStallEndsWriteWithoutProgress(t *testing.T) {
	w, _, _ := sockWriterPair(t)
	w.stall = 200 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, 64<<20))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrWriteStalled) {
			t.Fatalf("Write: %v, want ErrWriteStalled", err)
		}
		assertWriteOpError(t, err)
	case <-time.After(waitLimit):
		t.Fatal("a write without progress outlived its stall bound")
	}
	if w.armed {
		t.Fatal("the write left its deadline armed")
	}
}

// A peer that reads slowly but steadily is not stalled: each byte that
// goes moves the bound, so a write far longer than the bound completes.
func TestStallMovesWithProgress(t *testing.T) {
	w, a, b := sockWriterPair(t)
	// Small fixed buffers: with autotuned megabytes in flight the writer
	// is woken only after a large drain, which at this slow rate takes
	// longer than the short bound this test uses.
	_ = a.(*net.TCPConn).SetWriteBuffer(64 << 10)
	_ = b.(*net.TCPConn).SetReadBuffer(64 << 10)
	w.stall = 300 * time.Millisecond
	const size = 8 << 20
	read := make(chan int, 1)
	go func() {
		buf := make([]byte, 64<<10)
		n := 0
		_ = b.SetReadDeadline(time.Now().Add(waitLimit))
		for n < size {
			k, err := b.Read(buf)
			if err != nil {
				break
			}
			n += k
			time.Sleep(20 * time.Millisecond) // 128 pauses: ~2.6 s in all, 8x the bound
		}
		read <- n
	}()
	start := time.Now()
	if n, err := w.Write(make([]byte, size)); n != size || err != nil {
		t.Fatalf("Write: %d of %d bytes, %v (after %v)", n, size, err, time.Since(start))
	}
	if n := <-read; n != size {
		t.Fatalf("peer read %d of %d bytes", n, size)
	}
}
