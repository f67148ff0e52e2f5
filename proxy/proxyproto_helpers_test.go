package proxy

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/passtunnel/passtunnel/proxy/internal/pump"
)

// The addresses a test balancer claims for its client.
var (
	claimedClient = &net.TCPAddr{IP: net.ParseIP("203.0.113.7").To4(), Port: 4242}
	claimedDst    = &net.TCPAddr{IP: net.ParseIP("192.0.2.1").To4(), Port: 443}
	claimedV6     = &net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 4242}
	claimedV6Dst  = &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}
)

// gotHeader is what a header backend parsed from one connection.
type gotHeader struct {
	h   *proxyproto.Header
	err error
}

// headerEcho is a backend handler that parses a PROXY header (as a daemon
// behind passtunnel would), reports it on ch, then echoes what follows.
func headerEcho(ch chan<- gotHeader) func(net.Conn) {
	return func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(waitLimit))
		br := bufio.NewReader(c)
		h, err := proxyproto.Read(br)
		ch <- gotHeader{h, err}
		if err != nil {
			return
		}
		c.SetReadDeadline(time.Time{})
		if _, err := io.Copy(c, br); err == nil {
			pump.CloseWrite(c)
		}
	}
}

// nextHeader waits for the header a backend received.
func nextHeader(t *testing.T, ch <-chan gotHeader) *proxyproto.Header {
	t.Helper()
	select {
	case g := <-ch:
		if g.err != nil {
			t.Fatalf("backend: no PROXY header: %v", g.err)
		}
		return g.h
	case <-time.After(waitLimit):
		t.Fatal("backend received no connection")
	}
	return nil
}

// headerBackend starts a header-parsing echo backend on network/addr.
func headerBackend(t *testing.T, network, addr string) (*backend, <-chan gotHeader) {
	ch := make(chan gotHeader, 16)
	return startBackend(t, network, addr, nil, headerEcho(ch)), ch
}

// pp is a proxy_protocol block.
func pp(accept string, trusted []string, send string, tlvs bool) ProxyProtocol {
	return ProxyProtocol{Accept: accept, Trusted: trusted, Send: send, TLSTLVs: tlvs}
}

// headerBytes renders a header the test balancer sends.
func headerBytes(t testing.TB, version byte, src, dst net.Addr) []byte {
	t.Helper()
	b, err := proxyproto.HeaderProxyFromAddrs(version, src, dst).Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// coalesced sends head together with the first Write, in one segment, the
// way a balancer often sends a header and the client's first bytes.
type coalesced struct {
	net.Conn
	head []byte
}

func (c *coalesced) Write(b []byte) (int, error) {
	if c.head == nil {
		return c.Conn.Write(b)
	}
	msg := append(c.head, b...)
	c.head = nil
	if _, err := c.Conn.Write(msg); err != nil {
		return 0, err
	}
	return len(b), nil
}

// tlsAfterHeader dials a, writes head (with the ClientHello when coalesce
// is set) and completes the TLS handshake.
func tlsAfterHeader(t *testing.T, a net.Addr, head []byte, coalesce bool, conf *tls.Config) *tls.Conn {
	t.Helper()
	raw := dialPlain(t, a)
	var under net.Conn = raw
	if coalesce {
		under = &coalesced{Conn: raw, head: head}
	} else if _, err := raw.Write(head); err != nil {
		t.Fatal(err)
	}
	c := tls.Client(under, conf)
	c.SetDeadline(time.Now().Add(waitLimit))
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake after PROXY header: %v", err)
	}
	c.SetDeadline(time.Time{})
	return c
}
