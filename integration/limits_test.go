package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// TestMaxConnections: with max_connections = 2 the third connection is
// closed at once, and the first two keep working.
func TestMaxConnections(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	capped := f.serverTun("capped", "127.0.0.1:0", be.addr)
	capped.limits = `    max_connections   = 2
    handshake_timeout = "10s"`
	pt := startRun(t, capped)
	addr := pt.listenAddr(t, "capped")

	var open []*bufio.Reader
	var conns []net.Conn
	for i := 0; i < 2; i++ {
		c := dialTLS(t, addr, f.clientTLS(f.client))
		r := bufio.NewReader(c)
		roundTrip(t, c, r, "slot", "slot")
		conns, open = append(conns, c), append(open, r)
	}

	third := dial(t, addr)
	if took := expectClosed(t, third, 5*time.Second); took > 3*time.Second {
		t.Errorf("third connection closed after %v, want at once", took)
	}
	pt.mustLog(t, ioTimeout, `a line with reason "max_connections"`, logMatch("", "tunnel", "capped", "reason", "max_connections"))

	for i, c := range conns {
		roundTrip(t, c, open[i], "still here", "still here")
	}
}

// TestHandshakeTimeout: a TCP client that never speaks TLS is cut after
// handshake_timeout.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	slow := f.serverTun("slowhs", "127.0.0.1:0", be.addr)
	slow.limits = `    handshake_timeout = "500ms"`
	pt := startRun(t, slow)

	c := dial(t, pt.listenAddr(t, "slowhs"))
	took := expectClosed(t, c, 5*time.Second)
	if took < 400*time.Millisecond {
		t.Errorf("closed after %v, before the 500ms handshake_timeout", took)
	}
	pt.mustLog(t, ioTimeout, "handshake failed reason timeout",
		logMatch("handshake failed", "tunnel", "slowhs", "reason", "timeout"))
}

// TestSIGTERMDrains: SIGTERM during a slow transfer stops accepting, lets the
// transfer finish intact and exits 0.
func TestSIGTERMDrains(t *testing.T) {
	t.Parallel()
	const (
		chunk  = 16 << 10
		chunks = 40
		pace   = 25 * time.Millisecond
	)
	f := newFixture(t)
	be := startEcho(t)
	drain := f.serverTun("drain", "127.0.0.1:0", be.addr)
	drain.limits = `    drain_timeout = "20s"`
	pt := startRun(t, drain)
	addr := pt.listenAddr(t, "drain")

	c := dialTLS(t, addr, f.clientTLS(f.client))
	sent := sha256.New()
	src := io.TeeReader(stream(7, chunk*chunks), sent)
	writeChunk := func() error {
		_, err := io.CopyN(c, src, chunk)
		return err
	}
	if err := writeChunk(); err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	if _, err := io.CopyN(got, c, chunk); err != nil { // the transfer is in flight
		t.Fatalf("first chunk echo: %v", err)
	}

	pt.signal(t, syscall.SIGTERM)

	werr := make(chan error, 1)
	go func() {
		tick := time.NewTicker(pace)
		defer tick.Stop()
		for i := 1; i < chunks; i++ {
			<-tick.C
			if err := writeChunk(); err != nil {
				werr <- err
				return
			}
		}
		werr <- c.CloseWrite()
	}()

	type result struct {
		n   int64
		err error
	}
	rres := make(chan result, 1)
	go func() {
		n, err := io.Copy(got, c)
		rres <- result{n, err}
	}()

	refusedWithin(t, addr, 5*time.Second)

	if err := <-werr; err != nil {
		t.Fatalf("write after SIGTERM: %v", err)
	}
	r := <-rres // bounded by the connection deadline set in dialTLS
	if r.err != nil {
		t.Fatalf("read after SIGTERM (%d bytes): %v", r.n, r.err)
	}
	if total := r.n + chunk; total != chunk*chunks || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("echoed %d bytes, sent %d; sha256 equal: %v", total, chunk*chunks, bytes.Equal(got.Sum(nil), sent.Sum(nil)))
	}
	c.Close()
	if code := pt.mustExit(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
}

// refusedWithin polls until a TCP dial to addr is refused.
func refusedWithin(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	testwait.Poll(t, limit, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil
		case errors.Is(err, syscall.ECONNRESET):
			// Queued in the backlog as the listener closed: poll again.
		case err != nil:
			t.Fatalf("dial after SIGTERM: %v, want connection refused", err)
		default:
			c.Close()
		}
		return fmt.Errorf("%s still accepts connections after SIGTERM", addr)
	})
}
