package proxy

import (
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/connecttest"
	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// tcpPair is two ends of one loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client = dialPlain(t, ln.Addr())
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

// exchange runs connectExchange against a proxy that answers with reply,
// and returns the request the proxy read, the leftover bytes and the error.
func exchange(t *testing.T, auth, reply string) (req string, early []byte, err error) {
	t.Helper()
	c, s := tcpPair(t)
	c.SetDeadline(time.Now().Add(waitLimit))
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		n, _ := s.Read(buf)
		got <- string(buf[:n])
		io.WriteString(s, reply)
		s.(*net.TCPConn).CloseWrite()
	}()
	early, err = connectExchange(c, "target.example:443", auth)
	return <-got, early, err
}

func TestConnectExchange(t *testing.T) {
	huge := "HTTP/1.1 200 OK\r\nX-Pad: " + strings.Repeat("a", maxConnectResponse) + "\r\n\r\n"
	for _, tc := range []struct {
		name, reply string
		early       string
		err         string // "" = success
	}{
		{"ok", "HTTP/1.1 200 Connection established\r\n\r\n", "", ""},
		{"ok with headers, LF only", "HTTP/1.0 200 OK\nVia: x\n\n", "", ""},
		{"leftover bytes kept", "HTTP/1.1 200 OK\r\nVia: x\r\n\r\n\x16\x03\x03hello", "\x16\x03\x03hello", ""},
		{"proxy auth required", "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "", "answered HTTP/1.1 407 Proxy Authentication Required"},
		{"bad gateway", "HTTP/1.1 502 Bad Gateway\r\n\r\n", "", "answered HTTP/1.1 502 Bad Gateway"},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", "", "not an HTTP/1.x answer"},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n", "", "not an HTTP/1.x answer"},
		{"unprintable status", "HTTP/1.1 403 \x1b[31mno\r\n\r\n", "", "answered HTTP/1.1 403 ?[31mno"},
		{"closed mid headers", "HTTP/1.1 200 OK\r\nVia: x\r\n", "", "closed the connection before the end"},
		{"headers too large", huge, "", "larger than 8192 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, early, err := exchange(t, "", tc.reply)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			case string(early) != tc.early:
				t.Fatalf("leftover %q, want %q", early, tc.early)
			}
		})
	}
}

func TestConnectRequest(t *testing.T) {
	req, _, err := exchange(t, "Basic dTpw", "HTTP/1.1 200 OK\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "CONNECT target.example:443 HTTP/1.1\r\nHost: target.example:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
	if req != want {
		t.Errorf("request %q, want %q", req, want)
	}
	req, _, _ = exchange(t, "", "HTTP/1.1 200 OK\r\n\r\n")
	if strings.Contains(req, "Proxy-Authorization") {
		t.Errorf("request %q has credentials none were given", req)
	}
}

// basicAuth is the Proxy-Authorization value the daemon prepares.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// A client tunnel reaches its targets through the proxy: a target the
// proxy cannot reach (502) is that target's failure, and the next is tried.
func TestClientThroughConnectProxy(t *testing.T) {
	p := pkitest.NewPKI(t)
	cp := connecttest.Start(t, "alice", "s3cret-proxy")
	dead := deadTarget(t)
	live := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	tun, logs := startTunnel(t, Options{Mode: ModeClient, Targets: []Address{dead, live.addr()},
		ConnectProxy: ConnectProxy{Addr: cp.Addr(), Authorization: basicAuth("alice", "s3cret-proxy")},
		Limits:       testLimits(), TLS: p.ClientTLS(t)})
	logs.waitLine(t, "tunnel listening", "connect_proxy="+cp.Addr())
	c := dialPlain(t, tun.Addr())
	expectEcho(t, c, "through the proxy")
	c.Close()
	if got := strings.Join(cp.Targets(), ","); got != dead.Addr+","+live.addr().Addr {
		t.Errorf("proxy asked for %q", got)
	}
	logs.waitLine(t, "target dial failed", "target="+dead.Addr, "answered HTTP/1.1 502 Bad Gateway")
	if strings.Contains(logs.String(), "s3cret") || strings.Contains(logs.String(), basicAuth("alice", "s3cret-proxy")) {
		t.Errorf("credentials in the log:\n%s", logs)
	}
}

// Wrong credentials (407) refuse the connection as proxy_refused without
// trying the other targets or putting them in backoff.
func TestConnectProxyRefused(t *testing.T) {
	p := pkitest.NewPKI(t)
	cp := connecttest.Start(t, "alice", "s3cret-proxy")
	a := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	b := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	tun, logs := startTunnel(t, Options{Mode: ModeClient, Targets: []Address{a.addr(), b.addr()},
		ConnectProxy: ConnectProxy{Addr: cp.Addr(), Authorization: basicAuth("alice", "wrong-pw")},
		Limits:       testLimits(), TLS: p.ClientTLS(t)})
	expectReset(t, tun.Addr(), nil)
	line := logs.waitLine(t, "connection closed", "reason=proxy_refused")
	if !strings.Contains(line, "407 Proxy Authentication Required") || strings.Contains(logs.String(), "wrong-pw") {
		t.Errorf("line %q: want the status, never the password; log:\n%s", line, logs)
	}
	if got := cp.Targets(); len(got) != 1 {
		t.Errorf("proxy asked for %q: one 407 should end the tries", got)
	}
	if s := targetStats(tun, a.addr()); !s.Up {
		t.Errorf("target in backoff after the proxy's 407: %+v", s)
	}
}

// A proxy that accepts and never answers is bounded by connect_timeout;
// one that cannot be reached is proxy_dial_failed.
func TestConnectProxyStallAndDown(t *testing.T) {
	p := pkitest.NewPKI(t)
	cp := connecttest.Start(t, "alice", "pw")
	cp.Stall.Store(true)
	limits := testLimits()
	limits.ConnectTimeout = 300 * time.Millisecond
	live := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	tun, logs := startTunnel(t, Options{Mode: ModeClient, Target: live.addr(),
		ConnectProxy: ConnectProxy{Addr: cp.Addr()}, Limits: limits, TLS: p.ClientTLS(t)})
	if took := expectReset(t, tun.Addr(), nil); took > 3*time.Second {
		t.Errorf("closed after %v, connect_timeout is %v", took, limits.ConnectTimeout)
	}
	logs.waitLine(t, "connection closed", "reason=proxy_timeout")

	down := deadTarget(t)
	tun2, logs2 := startTunnel(t, Options{Mode: ModeClient, Target: live.addr(),
		ConnectProxy: ConnectProxy{Addr: down.Addr}, Limits: testLimits(), TLS: p.ClientTLS(t)})
	expectReset(t, tun2.Addr(), nil)
	logs2.waitLine(t, "connection closed", "reason=proxy_dial_failed", "connect_proxy "+down.Addr)
}

func TestConnectProxyOptions(t *testing.T) {
	p := pkitest.NewPKI(t)
	cp := ConnectProxy{Addr: "127.0.0.1:3128", Authorization: "Basic secret"}
	for _, o := range []Options{
		{Mode: ModeServer, Target: tcpAddr("127.0.0.1:1"), ConnectProxy: cp},
		{Mode: ModeClient, Target: unixAddr("/tmp/x.sock"), ConnectProxy: cp},
	} {
		o.Listen, o.TLS = tcpAddr("127.0.0.1:0"), p.ClientTLS(t)
		if _, err := Listen(o); err == nil {
			t.Errorf("%s tunnel to %s through a proxy: no error", o.Mode, o.Target)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the credentials: %v", err)
		}
	}
	var pe *proxyError
	if !errors.As(proxyFailure("p:1", "t:2", &connectRefused{code: 407, status: "407 x"}), &pe) || !pe.proxyFault {
		t.Errorf("407 is not the proxy's fault: %+v", pe)
	}
}
