package integration

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ioTimeout bounds every single network exchange of the tests.
const ioTimeout = 20 * time.Second

// backend is an in-test server: an echo or any other handler.
type backend struct {
	ln    net.Listener
	addr  string // as passtunnel's target wants it: host:port or unix:/path
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// startBackend serves handler on network/address until the test ends.
func startBackend(t testing.TB, network, address string, handler func(net.Conn)) *backend {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatalf("backend listen %s %s: %v", network, address, err)
	}
	b := serveBackend(t, ln, handler)
	if network == "unix" {
		b.addr = "unix:" + address
	}
	return b
}

// serveBackend serves handler on ln until the test ends.
func serveBackend(t testing.TB, ln net.Listener, handler func(net.Conn)) *backend {
	t.Helper()
	b := &backend{ln: ln, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns[c] = struct{}{}
			b.mu.Unlock()
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer func() {
					b.mu.Lock()
					delete(b.conns, c)
					b.mu.Unlock()
					c.Close()
				}()
				_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
				handler(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		done := make(chan struct{})
		go func() { b.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("backend %s: handlers still running 10s after close", b.addr)
		}
	})
	return b
}

// startEcho serves an echo backend on TCP loopback.
func startEcho(t testing.TB) *backend { return startBackend(t, "tcp", "127.0.0.1:0", echo) }

// echo copies everything back and half-closes after the peer's EOF.
func echo(c net.Conn) {
	_, _ = io.Copy(c, c)
	closeWrite(c)
}

// replyAfterEOF reads the whole request, then writes the hex SHA-256 of it
// followed by replyLen bytes of stream(replySeed).
func replyAfterEOF(replySeed uint64, replyLen int64) func(net.Conn) {
	return func(c net.Conn) {
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			return
		}
		if _, err := io.WriteString(c, hex.EncodeToString(h.Sum(nil))); err != nil {
			return
		}
		_, _ = io.Copy(c, stream(replySeed, replyLen))
		closeWrite(c)
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// stream is n deterministic pseudo-random bytes.
func stream(seed uint64, n int64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// digest is the hex SHA-256 of r and the number of bytes read.
func digest(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// freePort returns a loopback TCP port that was free a moment ago, for peers
// that cannot bind port 0 and report it; callers retry if the bind races.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// shortTempDir is a temp dir with a path short enough for unix sockets.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// dial connects in cleartext to a host:port or unix:/path address.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	network, address := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", p
	}
	c, err := net.DialTimeout(network, address, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	t.Cleanup(func() { c.Close() })
	return c
}

// dialTLS connects with TLS and completes the handshake.
func dialTLS(t testing.TB, addr string, cfg *tls.Config) *tls.Conn {
	t.Helper()
	d := &net.Dialer{Timeout: ioTimeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("tls dial %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes one line and expects want back as the next line.
func roundTrip(t testing.TB, c net.Conn, r *bufio.Reader, line, want string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatalf("write %q: %v", line, err)
	}
	got, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read reply to %q: %v (got %q)", line, err, got)
	}
	if got = strings.TrimSuffix(got, "\n"); got != want {
		t.Fatalf("reply to %q = %q, want %q", line, got, want)
	}
}

// echoOnce dials addr in cleartext and checks one line echoes back.
func echoOnce(t testing.TB, addr, line string) {
	t.Helper()
	c := dial(t, addr)
	roundTrip(t, c, bufio.NewReader(c), line, line)
	c.Close()
}

// expectRefusedDial dials a client tunnel whose target fails, sends line
// unless it is empty, and asserts the tunnel ends the connection within
// limit, returning how long that took. The tunnel resets it (see
// behaviour.md), and on loopback that reset can beat the dial itself.
func expectRefusedDial(t testing.TB, addr, line string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if errors.Is(err, syscall.ECONNRESET) {
		return time.Since(start)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if line != "" {
		_, _ = io.WriteString(c, line)
	}
	expectClosed(t, c, limit)
	return time.Since(start)
}

// expectClosed asserts the peer closes c (EOF or reset) within limit, and
// returns how long that took.
func expectClosed(t testing.TB, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if n > 0 && buf[0] != 0x15 { // 0x15: a TLS alert record is fine
			t.Fatalf("read %d unexpected bytes %q from a connection that should be closed", n, buf[:min(n, 32)])
		}
		if err == nil {
			continue
		}
		elapsed := time.Since(start)
		var ne net.Error
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
			return elapsed
		case errors.As(err, &ne) && ne.Timeout():
			t.Fatalf("connection still open after %v", limit)
		default:
			// Any other error also means the connection is gone.
			return elapsed
		}
	}
}
