package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"
)

// captureConn records what a TLS client writes, then fails its first read.
type captureConn struct {
	net.Conn
	out bytes.Buffer
}

func (c *captureConn) Write(b []byte) (int, error) { return c.out.Write(b) }
func (c *captureConn) Read([]byte) (int, error)    { return 0, errors.New("captured") }

// clientHello is the first flight of a crypto/tls client asking for name.
func clientHello(t *testing.T, name string) []byte {
	t.Helper()
	c := &captureConn{}
	_ = tls.Client(c, &tls.Config{ServerName: name}).Handshake()
	if c.out.Len() < 100 {
		t.Fatalf("ClientHello of %d bytes", c.out.Len())
	}
	return c.out.Bytes()
}

// stall connects from local (nil: any) and sends the first half of a
// ClientHello, then nothing.
func stall(t *testing.T, to net.Addr, local net.Addr, hello []byte) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: local, Timeout: waitLimit}
	c, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(hello[:len(hello)/2]); err != nil {
		t.Fatal(err)
	}
	return c
}

// A client that sends half a ClientHello and stalls is cut at the smallest
// handshake_timeout of the group, and counted.
func TestGroupCutsStalledHello(t *testing.T) {
	s := startGroup(t)
	slow, fast := testLimits(), testLimits()
	fast.HandshakeTimeout = 300 * time.Millisecond
	s.join(t, "a", false, slow, "a.example")
	s.join(t, "b", false, fast, "b.example")
	c := stall(t, s.g.Addr(), nil, clientHello(t, "a.example"))
	if took := expectClosed(t, c); took > 3*time.Second {
		t.Errorf("stalled ClientHello cut after %v, want about 300ms", took)
	}
	eventually(t, func() bool { return s.g.Stats().Refused["client_hello_timeout"] == 1 },
		"client_hello_timeout counted; %v", s.g.Stats().Refused)
	s.logs.waitLine(t, "connection refused", "reason=client_hello_timeout")
}

// A flood of bytes that never completes a ClientHello is cut once it passes
// maxClientHelloBytes, whatever the deadline.
func TestGroupCutsOversizedHello(t *testing.T) {
	s := startGroup(t)
	s.join(t, "a", false, testLimits(), "a.example")
	c := dialPlain(t, s.g.Addr())
	// A ClientHello header announcing 60,000 bytes, then records of zeros.
	flood := []byte{22, 3, 1, 0x40, 0, 1, 0, 0xea, 0x60}
	flood = append(flood, make([]byte, 0x4000-4)...)
	for range 2 {
		flood = append(flood, 22, 3, 1, 0x40, 0)
		flood = append(flood, make([]byte, 0x4000)...)
	}
	go func() { _, _ = c.Write(flood) }() // the group stops reading: this write may block
	expectClosed(t, c)
	eventually(t, func() bool { return s.g.Stats().Refused["client_hello_too_large"] == 1 },
		"client_hello_too_large counted; %v", s.g.Stats().Refused)
}

// One source that holds per_source_handshakes ClientHellos open is refused
// its next connection at once; another source still gets through.
func TestGroupBoundsHellosPerSource(t *testing.T) {
	s := startGroup(t)
	l := testLimits()
	l.PerSourceHandshakes = 3
	s.join(t, "a", false, l, "a.example")
	hello := clientHello(t, "a.example")
	for range 3 {
		stall(t, s.g.Addr(), nil, hello)
	}
	eventually(t, func() bool {
		s.g.mu.Lock()
		defer s.g.mu.Unlock()
		return len(s.g.pending) == 3
	}, "3 ClientHellos pending")
	over := stall(t, s.g.Addr(), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, hello)
	if took := expectClosed(t, over); took > time.Second {
		t.Errorf("connection over the per-source bound closed after %v, want at once", took)
	}
	if n := s.g.Stats().Refused[reasonPerSourceHandshakes]; n != 1 {
		t.Errorf("per_source_handshakes refusals %d, want 1", n)
	}
	other := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	d := net.Dialer{LocalAddr: other, Timeout: waitLimit}
	raw, err := d.Dial("tcp", s.g.Addr().String())
	if err != nil {
		t.Skipf("no second loopback source (127.0.0.2): %v", err)
	}
	c := tls.Client(raw, &tls.Config{ServerName: "a.example", RootCAs: s.p.Pool})
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	if err := c.Handshake(); err != nil {
		t.Fatalf("another source is blocked: %v", err)
	}
}
