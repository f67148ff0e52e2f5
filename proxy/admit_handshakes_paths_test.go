package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// Every way a connection leaves its handshake gives its count back: a
// timeout, a peer that is not TLS or hangs up, a failed shared-secret step,
// a refusal after the count was taken, Close and a drain.
func TestPerSourceHandshakesReleased(t *testing.T) {
	p := pkitest.NewPKI(t)
	const lo = "127.0.0.1/32"

	t.Run("timeout", func(t *testing.T) {
		limits := testLimits()
		limits.HandshakeTimeout = 300 * time.Millisecond
		tun, _ := serverTunnel(t, p, limits, nil)
		for range 5 {
			dialPlain(t, tun.Addr())
		}
		eventually(t, func() bool { return tun.Stats().HandshakeFailures[hsTimeout] == 5 },
			"5 timeouts, got %v", tun.Stats().HandshakeFailures)
		waitTableEmpty(t, tun)
	})
	t.Run("not TLS and hang-up", func(t *testing.T) {
		tun, _ := serverTunnel(t, p, longHandshake(), nil)
		garbage, gone := holdSilent(t, tun, "127.0.0.1", 2)[0], dialPlain(t, tun.Addr())
		waitInHandshake(t, tun, lo, 3)
		if _, err := io.WriteString(garbage, "GET / HTTP/1.0\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		gone.Close()
		eventually(t, func() bool { return inHandshake(tun, lo) == 1 }, "count 1, got %d", inHandshake(tun, lo))
		expectClosed(t, garbage)
	})
	t.Run("shared secret", func(t *testing.T) {
		be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
		tun, _ := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: longHandshake(),
			TLS: p.ServerTLS(t), AfterHandshake: expectToken("open")})
		waiting := dialTLS(t, tun.Addr(), p.ClientTLS(t)) // TLS done, proof not sent
		waitInHandshake(t, tun, lo, 1)
		if _, err := waiting.Write([]byte("nope")); err != nil {
			t.Fatal(err)
		}
		expectClosed(t, waiting)
		eventually(t, func() bool { return tun.Stats().HandshakeFailures["shared_secret"] == 1 },
			"a shared_secret failure, got %v", tun.Stats().HandshakeFailures)
		waitTableEmpty(t, tun)
	})
	t.Run("max_connections", func(t *testing.T) {
		limits := longHandshake()
		limits.MaxConnections = 3
		tun, _ := serverTunnel(t, p, limits, nil)
		for range 5 {
			dialPlain(t, tun.Addr())
		}
		eventually(t, func() bool { return tun.Stats().Refused[reasonMaxConns] == 2 },
			"2 refused, got %v", tun.Stats().Refused)
		if n := inHandshake(tun, lo); n != 3 {
			t.Errorf("count %d, want the 3 admitted: a refusal kept its count", n)
		}
	})
	t.Run("close", func(t *testing.T) {
		tun, _ := serverTunnel(t, p, longHandshake(), nil)
		holdSilent(t, tun, "127.0.0.1", 5)
		if err := tun.Close(); err != nil {
			t.Fatal(err)
		}
		waitTableEmpty(t, tun)
	})
	t.Run("drain", func(t *testing.T) {
		tun, _ := serverTunnel(t, p, longHandshake(), nil)
		holdSilent(t, tun, "127.0.0.1", 5)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := tun.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown = %v, want the drain to time out", err)
		}
		waitTableEmpty(t, tun)
	})
	t.Run("stopping", func(t *testing.T) {
		tun, _ := serverTunnel(t, p, longHandshake(), nil)
		if err := tun.StopAccepting(); err != nil {
			t.Fatal(err)
		}
		tun.admit(acceptedConn(t))
		if s := tun.Stats(); s.Refused[reasonShutdown] != 1 || s.Accepted != 0 {
			t.Errorf("stats %+v, want one shutdown refusal", s)
		}
		if n := tun.handshakes.size(); n != 0 {
			t.Errorf("%d sources counted after a refusal at shutdown, want none", n)
		}
	})
}

// acceptedConn is the server end of a fresh loopback TCP connection.
func acceptedConn(t *testing.T) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialPlain(t, ln.Addr())
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A reload changes the limit for new connections; those in flight keep
// their count, or their lack of one, to the end: nothing leaks and nothing
// goes negative.
func TestPerSourceHandshakesAcrossUpdate(t *testing.T) {
	const lo = "127.0.0.1/32"
	limits := longHandshake()
	limits.PerSourceHandshakes = 0
	tun, _ := serverTunnel(t, pkitest.NewPKI(t), limits, nil)
	setLimit := func(n int) {
		t.Helper()
		o := *tun.opts.Load()
		o.Limits.PerSourceHandshakes = n
		if err := tun.Update(o); err != nil {
			t.Fatal(err)
		}
	}
	var uncounted []net.Conn
	for range 3 {
		uncounted = append(uncounted, dialPlain(t, tun.Addr()))
	}
	eventually(t, func() bool { return tun.Stats().Active == 3 }, "3 active, got %+v", tun.Stats())

	setLimit(2)
	counted := holdSilent(t, tun, "127.0.0.1", 2)
	expectClosed(t, dialPlain(t, tun.Addr()))
	for _, c := range uncounted {
		c.Close()
	}
	eventually(t, func() bool { return tun.Stats().Active == 2 }, "2 active, got %+v", tun.Stats())
	if n := inHandshake(tun, lo); n != 2 {
		t.Errorf("count %d after uncounted connections ended, want 2", n)
	}

	setLimit(4)
	counted = append(counted, holdSilent(t, tun, "127.0.0.1", 2)...)
	setLimit(0)
	accepted := tun.Stats().Accepted
	free := dialPlain(t, tun.Addr())
	eventually(t, func() bool { return tun.Stats().Accepted == accepted+1 }, "admitted under no limit")
	free.Close()
	counted[0].Close()
	waitInHandshake(t, tun, lo, 3)
	setLimit(1)
	expectClosed(t, dialPlain(t, tun.Addr()))
	if got := tun.Stats().Refused[reasonPerSourceHandshakes]; got != 2 {
		t.Errorf("Refused[per_source_handshakes] = %d, want 2", got)
	}
	for _, c := range counted {
		c.Close()
	}
	waitTableEmpty(t, tun)
}

// Under concurrent arrivals, handshakes that succeed, fail and are refused
// leave the table exact: empty once every connection is done.
func TestPerSourceHandshakesConcurrent(t *testing.T) {
	p := pkitest.NewPKI(t)
	limits := testLimits()
	limits.PerSourceHandshakes = 4
	tun, _ := serverTunnel(t, p, limits, nil)
	conf := p.ClientTLS(t)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 8 {
				if !oneArrival(t, tun.Addr(), conf, w+round) {
					return
				}
			}
		}()
	}
	wg.Wait()
	eventually(t, func() bool { return tun.Stats().Active == 0 }, "all done, got %+v", tun.Stats())
	if n := tun.handshakes.size(); n != 0 {
		t.Errorf("%d sources still counted with no connection left (count %d)", n, inHandshake(tun, "127.0.0.1/32"))
	}
	s := tun.Stats()
	t.Logf("accepted %d, refused %v, handshake failures %v", s.Accepted, s.Refused, s.HandshakeFailures)
}

// oneArrival connects to a and, by kind, completes a TLS handshake and a
// round trip (when admitted), sends something that is not TLS, or hangs up
// at once. It reports false when it could not connect.
func oneArrival(t *testing.T, a net.Addr, conf *tls.Config, kind int) bool {
	c, err := net.DialTimeout("tcp", a.String(), waitLimit)
	if err != nil {
		t.Error(err)
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	switch kind % 3 {
	case 0:
		tc := tls.Client(c, conf)
		if tc.Handshake() == nil {
			_, _ = tc.Write([]byte("x"))
			_, _ = tc.Read(make([]byte, 1))
		}
	case 1:
		_, _ = io.WriteString(c, "hello\r\n\r\n")
		_, _ = io.Copy(io.Discard, c)
	}
	return true
}
