package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/proxy/internal/pump"
)

func TestShutdownLetsTransfersFinish(t *testing.T) {
	tun, logs := clientTunnel(t, testLimits())
	c := dialPlain(t, tun.Addr())
	c.SetDeadline(time.Now().Add(waitLimit))
	first, second := make([]byte, 1<<20), make([]byte, 1<<20)
	rand.Read(first)
	rand.Read(second)
	echoed := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(c); echoed <- b }()
	if _, err := c.Write(first); err != nil {
		t.Fatal(err)
	}

	shut := make(chan error, 1)
	go func() { shut <- tun.Shutdown(context.Background()) }()
	eventually(t, func() bool {
		probe, err := net.Dial("tcp", tun.Addr().String())
		if err == nil {
			probe.Close()
		}
		return err != nil
	}, "listener to refuse new connections")

	// The open connection keeps working until it is done.
	if _, err := c.Write(second); err != nil {
		t.Fatalf("write during drain: %v", err)
	}
	pump.CloseWrite(c)
	if got := <-echoed; !bytes.Equal(got, append(first, second...)) {
		t.Fatalf("echo during drain: %d bytes, want %d", len(got), 2<<20)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Shutdown did not return after the last connection ended")
	}
	logs.waitLine(t, "connection closed", "bytes_in=2097152", "reason=eof")
	if a := tun.Stats().Active; a != 0 {
		t.Errorf("Active = %d after Shutdown", a)
	}
}

func TestShutdownDrainTimeout(t *testing.T) {
	tun, logs := clientTunnel(t, testLimits())
	c := dialPlain(t, tun.Addr())
	expectEcho(t, c, "will linger")

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := tun.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "closed 1 connections") {
		t.Fatalf("Shutdown = %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Shutdown returned after %v, before its deadline", d)
	}
	expectClosed(t, c)
	// Shutdown waited for the goroutine, so the line is already there.
	if logs.line("connection closed", "reason=drain_timeout") == "" {
		t.Fatalf("no drain_timeout line:\n%s", logs)
	}
	if err := tun.Serve(); err != nil {
		t.Errorf("Serve after Shutdown = %v, want nil", err)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	limits := testLimits()
	limits.HandshakeTimeout = time.Hour
	tun, logs := serverTunnel(t, pkitest.NewPKI(t), limits, nil)
	stuck := dialPlain(t, tun.Addr()) // in its handshake
	eventually(t, func() bool { return tun.Stats().Active == 1 }, "connection admitted")
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, stuck)
	if logs.line("connection closed", "reason=shutdown") == "" {
		t.Fatalf("no shutdown line:\n%s", logs)
	}
}

func TestUnixStaleSocket(t *testing.T) {
	p := pkitest.NewPKI(t)
	opts := func(path string) Options {
		return Options{Name: "sock", Mode: ModeServer, Listen: unixAddr(path),
			Target: tcpAddr("127.0.0.1:1"), Limits: testLimits(), TLS: p.ServerTLS(t),
			Logger: (&logBuf{}).logger()}
	}

	t.Run("stale is replaced", func(t *testing.T) {
		path := sockPath(t, "s.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close() // leaves the file, as a crashed process would
		tun, err := Listen(opts(path))
		if err != nil {
			t.Fatalf("Listen over stale socket: %v", err)
		}
		tun.Close()
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file left after Close: %v", err)
		}
	})

	t.Run("live is refused", func(t *testing.T) {
		path := sockPath(t, "l.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, err = Listen(opts(path))
		if err == nil || !strings.Contains(err.Error(), `tunnel "sock"`) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Listen over live socket = %v", err)
		}
		if c, err := net.Dial("unix", path); err != nil {
			t.Errorf("live socket disturbed: %v", err)
		} else {
			c.Close()
		}
	})

	t.Run("regular file is left alone", func(t *testing.T) {
		path := sockPath(t, "f.sock")
		os.WriteFile(path, []byte("data"), 0o600)
		if _, err := Listen(opts(path)); err == nil {
			t.Fatal("Listen over a regular file succeeded")
		}
		if b, _ := os.ReadFile(path); string(b) != "data" {
			t.Error("regular file changed")
		}
	})
}

func TestListenErrorNamesTunnel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(Options{Name: "busy", Mode: ModeServer, Listen: tcpAddr(ln.Addr().String()),
		Target: tcpAddr("127.0.0.1:1"), TLS: pkitest.NewPKI(t).ServerTLS(t), Logger: (&logBuf{}).logger()})
	if err == nil || !strings.Contains(err.Error(), `tunnel "busy"`) || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("Listen on a busy port = %v", err)
	}
}
