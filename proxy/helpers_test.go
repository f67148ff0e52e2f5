package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testlog"
	"github.com/passtunnel/passtunnel/internal/testwait"
	"github.com/passtunnel/passtunnel/proxy/internal/pump"
)

// waitLimit bounds every wait in these tests; on a loaded box things are
// slow, but nothing legitimate takes this long.
const waitLimit = 10 * time.Second

// logBuf adds to testlog.Buffer the lookups these tests assert on.
type logBuf struct{ testlog.Buffer }

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// line returns the first log line containing every part, or "".
func (l *logBuf) line(parts ...string) string {
	for _, ln := range strings.Split(l.String(), "\n") {
		if containsAll(ln, parts) {
			return ln
		}
	}
	return ""
}

// waitLine waits for a log line containing every part and returns it.
func (l *logBuf) waitLine(t testing.TB, parts ...string) string {
	t.Helper()
	var got string
	eventually(t, func() bool { got = l.line(parts...); return got != "" },
		"log line with %q; log:\n%s", parts, l)
	return got
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// eventually polls cond until it holds or waitLimit passes.
func eventually(t testing.TB, cond func() bool, format string, args ...any) {
	t.Helper()
	testwait.Until(t, waitLimit, fmt.Sprintf(format, args...), cond)
}

func tcpAddr(s string) Address  { return Address{Network: NetTCP, Addr: s} }
func unixAddr(s string) Address { return Address{Network: NetUnix, Addr: s} }

// addrOf turns a bound net.Addr back into a Address.
func addrOf(a net.Addr) Address {
	if a.Network() == "unix" {
		return unixAddr(a.String())
	}
	return tcpAddr(a.String())
}

// sockPath is a short unix socket path: t.TempDir can exceed the 108-byte
// sun_path limit on some systems, so keep the file name tiny.
func sockPath(t testing.TB, name string) string {
	return filepath.Join(t.TempDir(), name)
}

// testLimits are the config's defaults with short bounds so failures show
// quickly.
func testLimits() Limits {
	return Limits{
		MaxConnections:      1024,
		PerSourceHandshakes: 64,
		HandshakeTimeout:    5 * time.Second,
		ConnectTimeout:      5 * time.Second,
		DrainTimeout:        30 * time.Second,
	}
}

// startTunnel listens and serves opts, closing it when the test ends.
func startTunnel(t testing.TB, opts Options) (*Tunnel, *logBuf) {
	t.Helper()
	tun, logs, _ := serveTunnel(t, opts)
	return tun, logs
}

// serving is a tunnel's Serve running in the background: done closes when
// it returns, and err is then what it returned.
type serving struct {
	done chan struct{}
	err  error
}

// serveTunnel is startTunnel that also hands the test Serve's progress, so
// that it can check Serve did not end early.
func serveTunnel(t testing.TB, opts Options) (*Tunnel, *logBuf, *serving) {
	t.Helper()
	logs := &logBuf{}
	if opts.Logger == nil {
		opts.Logger = logs.logger()
	}
	if opts.Name == "" {
		opts.Name = "test"
	}
	if opts.Listen.Addr == "" {
		opts.Listen = tcpAddr("127.0.0.1:0")
	}
	tun, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &serving{done: make(chan struct{})}
	go func() { s.err = tun.Serve(); close(s.done) }()
	t.Cleanup(func() {
		tun.Close()
		select {
		case <-s.done:
			if s.err != nil {
				t.Errorf("Serve: %v", s.err)
			}
		case <-time.After(waitLimit):
			t.Error("Serve did not return after Close")
		}
	})
	return tun, logs, s
}

// backend is a target server running handler on every connection.
type backend struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// startBackend listens on network/addr (TLS when conf is set) and runs
// handler per connection; everything is closed and waited for at cleanup.
func startBackend(t testing.TB, network, addr string, conf *tls.Config, handler func(net.Conn)) *backend {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	if conf != nil {
		ln = tls.NewListener(ln, conf)
	}
	b := &backend{ln: ln}
	b.wg.Add(1)
	go b.accept(handler)
	t.Cleanup(b.close)
	return b
}

func (b *backend) accept(handler func(net.Conn)) {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns = append(b.conns, c)
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer c.Close()
			handler(c)
		}()
	}
}

func (b *backend) close() {
	b.ln.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *backend) addr() Address { return addrOf(b.ln.Addr()) }

// echo copies everything back and half-closes when the peer did.
func echo(c net.Conn) {
	if _, err := io.Copy(c, c); err == nil {
		pump.CloseWrite(c)
	}
}

// dialPlain connects to a tunnel's cleartext side.
func dialPlain(t testing.TB, a net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(a.Network(), a.String(), waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialTLS connects to a tunnel's TLS side and completes the handshake.
func dialTLS(t testing.TB, a net.Addr, conf *tls.Config) *tls.Conn {
	t.Helper()
	c := tls.Client(dialPlain(t, a), conf)
	c.SetDeadline(time.Now().Add(waitLimit))
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.SetDeadline(time.Time{})
	return c
}

// roundTrip writes msg and reads the same number of bytes back.
func roundTrip(t testing.TB, c net.Conn, msg []byte) []byte {
	t.Helper()
	c.SetDeadline(time.Now().Add(waitLimit))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	return got
}

// expectEcho checks that c echoes msg.
func expectEcho(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	if got := roundTrip(t, c, []byte(msg)); string(got) != msg {
		t.Fatalf("echo: got %q, want %q", got, msg)
	}
}

// expectClosed waits until the tunnel closes c: a read ends in EOF or a
// reset, not in our own deadline. It returns how long that took.
// expectReset dials a tunnel whose target cannot be reached (conf nil:
// in cleartext) and requires that the tunnel resets the connection: at
// connect (on loopback the reset can beat the client's own connect to the
// finish), in the TLS handshake, or at a read. It returns how long that
// took.
func expectReset(t testing.TB, a net.Addr, conf *tls.Config) time.Duration {
	t.Helper()
	start := time.Now()
	err := func() error {
		raw, err := net.DialTimeout(a.Network(), a.String(), waitLimit)
		if err != nil {
			return err
		}
		defer raw.Close()
		c := raw
		_ = c.SetDeadline(start.Add(waitLimit))
		if conf != nil {
			tc := tls.Client(raw, conf)
			if err := tc.Handshake(); err != nil {
				return err
			}
			c = tc
		}
		_, err = io.Copy(io.Discard, c)
		return err
	}()
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the tunnel ended the connection with %v, want a reset", err)
	}
	return time.Since(start)
}

func expectClosed(t testing.TB, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(waitLimit))
	_, err := io.Copy(io.Discard, c)
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %v", waitLimit)
	}
	return time.Since(start)
}
