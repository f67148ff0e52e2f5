package pump

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/proxy/internal/sock"
)

// A write much larger than the socket buffers fills them, parks on EAGAIN
// and carries on as the peer reads, delivering every byte in order.
func TestSockWriterBackpressure(t *testing.T) {
	w, a, b := sockWriterPair(t)
	msg := make([]byte, 16<<20)
	for i := range msg {
		msg[i] = byte(i * 7 >> 3)
	}
	got := make(chan [32]byte, 1)
	go func() {
		h := sha256.New()
		// Read slowly at first, so that the writer meets a full socket.
		buf := make([]byte, 4<<10)
		for n := 0; n < len(msg); {
			k, err := b.Read(buf)
			if err != nil {
				break
			}
			h.Write(buf[:k])
			n += k
			if n < 1<<20 {
				time.Sleep(time.Millisecond)
			}
		}
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		got <- sum
	}()
	a.SetWriteDeadline(time.Now().Add(waitLimit))
	b.SetReadDeadline(time.Now().Add(waitLimit))
	if n, err := w.Write(msg); n != len(msg) || err != nil {
		t.Fatalf("Write: %d of %d bytes, %v", n, len(msg), err)
	}
	if sum := <-got; sum != sha256.Sum256(msg) {
		t.Fatal("the peer read other bytes than were written")
	}
}

// A write deadline applies as it does to net.Conn.Write.
func TestSockWriterDeadline(t *testing.T) {
	w, a, _ := sockWriterPair(t)
	a.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, 64<<20)) // the peer never reads
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write: %v, want a deadline error", err)
		}
		assertWriteOpError(t, err)
	case <-time.After(waitLimit):
		t.Fatal("Write ignored its deadline")
	}
}

// Writing to a peer that is gone fails as net.Conn.Write does: an
// *net.OpError "write" around the errno, which the predicates proxy's
// closeReason classifies with recognise.
func TestSockWriterPeerGone(t *testing.T) {
	w, _, b := sockWriterPair(t)
	b.(*net.TCPConn).SetLinger(0) // close with a reset
	b.Close()
	var err error
	deadline := time.Now().Add(waitLimit)
	for err == nil && time.Now().Before(deadline) {
		_, err = w.Write(bytes.Repeat([]byte{1}, 1024))
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write to a reset peer: %v", err)
	}
	assertWriteOpError(t, err)
	if !sock.Reset(err) && !sock.BrokenPipe(err) {
		t.Fatalf("sock.Reset and sock.BrokenPipe(%v) both false", err)
	}
}

func assertWriteOpError(t *testing.T, err error) {
	t.Helper()
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "write" || op.Addr == nil {
		t.Fatalf("error %#v is not a write OpError naming the peer", err)
	}
}

// A closed socket fails the write at once, as net.Conn.Write does.
func TestSockWriterClosed(t *testing.T) {
	w, a, _ := sockWriterPair(t)
	a.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed socket: %v", err)
	}
}

// sockWriterPair is a loopback TCP connection with a sockWriter on its
// first end.
func sockWriterPair(t *testing.T) (*sockWriter, net.Conn, net.Conn) {
	a, b := tcpPair(t)
	w := newSockWriter(a)
	if w == nil {
		t.Skip("no direct socket writes on this platform")
	}
	return w, a, b
}
