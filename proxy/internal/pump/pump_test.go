package pump

import (
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// waitLimit bounds every wait in these tests; on a loaded box things are
// slow, but nothing legitimate takes this long.
const waitLimit = 10 * time.Second

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(tb testing.TB) (net.Conn, net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// tlsPair wraps a TCP pair in TLS, client on the first end.
func tlsPair(tb testing.TB) (net.Conn, net.Conn) {
	p := pkitest.NewPKI(tb)
	a, b := tcpPair(tb)
	ca, cb := tls.Client(a, p.ClientTLS(tb)), tls.Server(b, p.ServerTLS(tb))
	done := make(chan error, 1)
	go func() { done <- cb.Handshake() }()
	if err := ca.Handshake(); err != nil {
		tb.Fatal(err)
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return ca, cb
}

// benchDirection measures one direction of the pump: bytes written into
// the source pair come out of the destination pair.
func benchDirection(b *testing.B, srcPair func(testing.TB) (net.Conn, net.Conn)) {
	in, src := srcPair(b)
	dst, out := tcpPair(b)
	d := &direction{src: src, dst: dst, total: new(atomic.Uint64)}
	ran := make(chan error, 1)
	go func() { ran <- d.run() }()
	drained := make(chan int64, 1)
	go func() { n, _ := io.Copy(io.Discard, out); drained <- n }()

	chunk := make([]byte, 64<<10)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := in.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	CloseWrite(in)
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
	if n := <-drained; n != int64(b.N*len(chunk)) {
		b.Fatalf("pumped %d bytes, want %d", n, b.N*len(chunk))
	}
}

func BenchmarkPumpTCP(b *testing.B) { benchDirection(b, tcpPair) }
func BenchmarkPumpTLS(b *testing.B) { benchDirection(b, tlsPair) }

// waitReturns runs wait and reports whether it returned within d.
func waitReturns(wait func() error, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// The poller is edge-triggered: after a read that leaves bytes queued,
// sockReader must still see them instead of parking until the next packet.
func TestSockReaderLeftoverBytes(t *testing.T) {
	in, out := tcpPair(t)
	s := newSockReader(out)
	if s == nil {
		t.Skip("no direct socket reads on this platform")
	}
	const total = 4 * bulkBufSize // much more than one read takes
	go in.Write(make([]byte, total))
	for got := 0; got < total; {
		if !waitReturns(s.fill, waitLimit) {
			t.Fatalf("parked with %d bytes still to read", total-got)
		}
		got += len(s.unread())
		s.off = s.end
	}

	// Nothing queued: fill blocks until a byte arrives.
	done := make(chan error, 1)
	go func() { done <- s.fill() }()
	select {
	case <-done:
		t.Fatal("fill returned with nothing to read")
	case <-time.After(50 * time.Millisecond):
	}
	in.Write([]byte{1})
	select {
	case err := <-done:
		if err != nil || len(s.unread()) != 1 {
			t.Fatalf("fill: %v, %d bytes", err, len(s.unread()))
		}
	case <-time.After(waitLimit):
		t.Fatal("fill missed new data")
	}
}
