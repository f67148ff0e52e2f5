//go:build linux

package proxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// onListenerFD runs fn on the tunnel's listening socket.
func onListenerFD(t *testing.T, tun *Tunnel, fn func(fd int) error) {
	t.Helper()
	rc, err := tun.ln.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = fn(int(fd)) }); err != nil {
		t.Fatal(err)
	}
	if opErr != nil {
		t.Fatal(opErr)
	}
}

// breakListener makes every accept on tun's socket fail with EINVAL, as
// Linux does for a listening socket shut down for reading, until
// mendListener makes it listen again.
func breakListener(t *testing.T, tun *Tunnel) {
	onListenerFD(t, tun, func(fd int) error { return syscall.Shutdown(fd, syscall.SHUT_RD) })
}

// mendListener binds the socket to its old address again (shutting a
// listener down gave back the port the kernel had picked) and listens.
func mendListener(t *testing.T, tun *Tunnel) {
	a := tun.Addr().(*net.TCPAddr)
	sa := &syscall.SockaddrInet4{Port: a.Port, Addr: [4]byte(a.IP.To4())}
	onListenerFD(t, tun, func(fd int) error {
		if err := syscall.Bind(fd, sa); err != nil {
			return fmt.Errorf("bind %v again: %w", a, err)
		}
		return syscall.Listen(fd, syscall.SOMAXCONN)
	})
}

// A listener that fails on every accept keeps its tunnel running: Serve
// retries, counts, logs and reports it, and picks up again by itself when
// the listener works again; another tunnel is not disturbed meanwhile.
func TestBrokenListenerKeepsServing(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	opts := func(name string) Options {
		return Options{Name: name, Mode: ModeClient, Listen: tcpAddr("127.0.0.1:0"), Target: be.addr(),
			Limits: testLimits(), TLS: p.ClientTLS(t)}
	}
	broken, logs, served := serveTunnel(t, opts("broken"))
	healthy, _ := startTunnel(t, opts("healthy"))

	breakListener(t, broken)
	eventually(t, func() bool { return broken.Stats().AcceptErrors >= 3 }, "3 accept errors counted")
	if err := broken.AcceptFailing(); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("AcceptFailing = %v, want EINVAL", err)
	}
	logs.waitLine(t, "level=WARN", `msg="accept failed, retrying"`, "tunnel=broken",
		"listen="+broken.Addr().String(), "invalid argument", "retry_in=")
	select {
	case <-served.done:
		t.Fatalf("Serve returned on an accept failure: %v", served.err)
	default:
	}

	c := dialPlain(t, healthy.Addr())
	expectEcho(t, c, "the other tunnel carries on")
	if err := healthy.AcceptFailing(); err != nil {
		t.Errorf("healthy tunnel: AcceptFailing = %v", err)
	}

	mendListener(t, broken)
	expectEcho(t, dialPlain(t, broken.Addr()), "accepting again")
	if err := broken.AcceptFailing(); err != nil {
		t.Errorf("after a successful accept: AcceptFailing = %v", err)
	}
	logs.waitLine(t, "level=INFO", `msg="accepting again"`, "tunnel=broken", "failed_accepts=")
}

// failOnce is a listener whose first accept fails with err.
type failOnce struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *failOnce) Accept() (net.Conn, error) {
	failed := false
	l.once.Do(func() { failed = true })
	if failed {
		return nil, l.err
	}
	return l.Listener.Accept()
}

// A failure that passes while no client is waiting leaves the retry
// waiting in accept: the tunnel must not stay "failing" until a client
// happens to come, which a readiness probe keeping it out of rotation
// could prevent for good.
func TestPassingAcceptFailureLapses(t *testing.T) {
	logs := &logBuf{}
	tun, err := Listen(Options{Name: "flaky", Mode: ModeServer, Listen: tcpAddr("127.0.0.1:0"),
		Target: tcpAddr("127.0.0.1:1"), Limits: testLimits(), TLS: pkitest.NewPKI(t).ServerTLS(t), Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	tun.ln = &failOnce{Listener: tun.ln, err: &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EPROTO}}
	served := make(chan error, 1)
	go func() { served <- tun.Serve() }()
	defer func() {
		tun.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve after Close: %v", err)
		}
	}()

	eventually(t, func() bool { return tun.Stats().AcceptErrors == 1 }, "the accept error counted")
	eventually(t, func() bool { return tun.AcceptFailing() == nil }, "the failure to lapse")
	if tun.failing.Load() == nil {
		t.Fatal("the failure was cleared by a success, not by the lapse: no client connected")
	}
}
