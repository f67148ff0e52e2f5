package proxy

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/proxy/internal/pump"
)

func TestServerModeEcho(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(),
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	logs.waitLine(t, "tunnel listening", "tunnel=test", "mode=server", "listen="+tun.Addr().String(),
		"target="+be.addr().Addr)

	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "hello through server mode")
	c.Close()
	line := logs.waitLine(t, "connection closed")
	for _, want := range []string{"peer=127.0.0.1:", "target=" + be.addr().Addr, `peer_subject="CN=client"`,
		"tls_version=TLSv1.3", "cipher=TLS_", "resumed=false", "sni=", "alpn=", "bytes_in=25", "bytes_out=25",
		"duration_s=0.", "reason=eof"} {
		if !strings.Contains(line, want) {
			t.Errorf("close line %q lacks %q", line, want)
		}
	}
}

func TestClientModeEcho(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	tun, logs := startTunnel(t, Options{Mode: ModeClient, Target: be.addr(),
		Limits: testLimits(), TLS: p.ClientTLS(t), ConnWarning: "target certificate is not verified"})

	c := dialPlain(t, tun.Addr())
	expectEcho(t, c, "hello through client mode")
	pump.CloseWrite(c)
	expectClosed(t, c)
	logs.waitLine(t, "level=WARN", "target certificate is not verified", "peer=127.0.0.1:")
	logs.waitLine(t, "connection closed", `peer_subject="CN=server"`, "reason=eof")
}

// chain starts a client-mode tunnel feeding a server-mode tunnel feeding a
// backend on target, and returns the client tunnel's cleartext address.
func chain(t *testing.T, target Address) (net.Addr, *logBuf, *logBuf) {
	p := pkitest.NewPKI(t)
	srv, srvLogs := startTunnel(t, Options{Name: "srv", Mode: ModeServer, Target: target,
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	cli, cliLogs := startTunnel(t, Options{Name: "cli", Mode: ModeClient,
		Target: addrOf(srv.Addr()), Limits: testLimits(), TLS: p.ClientTLS(t)})
	return cli.Addr(), cliLogs, srvLogs
}

// transfer is what one end sent and received, as SHA-256 sums.
type transfer struct {
	sent, got [32]byte
	nGot      int64
	err       error
}

// sendAndReceive writes n random bytes then half-closes, while reading
// everything the other end sends until EOF.
func sendAndReceive(c net.Conn, n int64) transfer {
	c.SetDeadline(time.Now().Add(3 * waitLimit))
	type result struct {
		sum [32]byte
		n   int64
		err error
	}
	recv := make(chan result, 1)
	go func() {
		h := sha256.New()
		n, err := io.Copy(h, c)
		recv <- result{[32]byte(h.Sum(nil)), n, err}
	}()
	h := sha256.New()
	_, err := io.CopyN(io.MultiWriter(c, h), rand.Reader, n)
	if err == nil {
		err = pump.CloseWrite(c)
	}
	r := <-recv
	if err == nil {
		err = r.err
	}
	return transfer{sent: [32]byte(h.Sum(nil)), got: r.sum, nGot: r.n, err: err}
}

func TestChainedBulkBothWays(t *testing.T) {
	const up, down = 6 << 20, 5<<20 + 12345
	results := make(chan transfer, 1)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
		results <- sendAndReceive(c, down)
	})
	addr, cliLogs, srvLogs := chain(t, be.addr())

	client := sendAndReceive(dialPlain(t, addr), up)
	server := <-results
	if client.err != nil || server.err != nil {
		t.Fatalf("client err %v, backend err %v", client.err, server.err)
	}
	if server.nGot != up || server.got != client.sent {
		t.Errorf("upstream: backend got %d bytes, hash match %v", server.nGot, server.got == client.sent)
	}
	if client.nGot != down || client.got != server.sent {
		t.Errorf("downstream: client got %d bytes, hash match %v", client.nGot, client.got == server.sent)
	}
	for _, l := range []*logBuf{cliLogs, srvLogs} {
		l.waitLine(t, "connection closed", "bytes_in=6291456", "bytes_out=5255225", "reason=eof")
	}
}

// Request/response exchanges of sizes around the pump's buffer boundaries
// must not stall: a stall would mean bytes held back waiting for more.
func TestChainedMessageSizes(t *testing.T) {
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	addr, _, _ := chain(t, be.addr())
	c := dialPlain(t, addr)
	for _, n := range []int{1, 1023, 1024, 1025, 2048, 16383, 16384, 16385, 32768, 32769, 100000} {
		msg := make([]byte, n)
		rand.Read(msg)
		if got := roundTrip(t, c, msg); !bytes.Equal(got, msg) {
			t.Fatalf("size %d: echo differs", n)
		}
	}
}

func TestHalfCloseClientFirst(t *testing.T) {
	reply := make([]byte, 3<<20)
	rand.Read(reply)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
		if _, err := io.ReadAll(c); err != nil {
			return
		}
		c.Write(reply) // only after the request side hit EOF
		pump.CloseWrite(c)
	})
	addr, _, _ := chain(t, be.addr())
	c := dialPlain(t, addr)
	c.SetDeadline(time.Now().Add(waitLimit))
	c.Write([]byte("request"))
	pump.CloseWrite(c)
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, reply) {
		t.Fatalf("reply after half-close: %d of %d bytes, err %v", len(got), len(reply), err)
	}
}

func TestHalfCloseTargetFirst(t *testing.T) {
	greeting := make([]byte, 3<<20)
	rand.Read(greeting)
	received := make(chan [32]byte, 1)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
		c.Write(greeting)
		pump.CloseWrite(c) // done talking, still listening
		h := sha256.New()
		io.Copy(h, c)
		received <- [32]byte(h.Sum(nil))
	})
	addr, _, _ := chain(t, be.addr())
	c := dialPlain(t, addr)
	c.SetDeadline(time.Now().Add(waitLimit))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, greeting) {
		t.Fatalf("greeting: %d of %d bytes, err %v", len(got), len(greeting), err)
	}
	msg := make([]byte, 2<<20)
	rand.Read(msg)
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write after peer half-closed: %v", err)
	}
	pump.CloseWrite(c)
	select {
	case sum := <-received:
		if sum != sha256.Sum256(msg) {
			t.Fatal("target received different bytes")
		}
	case <-time.After(waitLimit):
		t.Fatal("target never saw EOF")
	}
}

// A TLS peer that sends FIN without close_notify has still finished writing:
// the target must see EOF and the reply must still arrive.
func TestTLSPeerWithoutCloseNotify(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		c.Write([]byte(strings.ToUpper(string(b))))
	})
	tun, _ := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(),
		Limits: testLimits(), TLS: p.ServerTLS(t)})
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	c.SetDeadline(time.Now().Add(waitLimit))
	c.Write([]byte("abc"))
	c.NetConn().(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c)
	if string(got) != "ABC" {
		t.Fatalf("got %q", got)
	}
}

func TestIPv6Listen(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "[::1]:0", nil, echo)
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Listen: tcpAddr("[::1]:0"),
		Target: be.addr(), Limits: testLimits(), TLS: p.ServerTLS(t)})
	if !strings.HasPrefix(tun.Addr().String(), "[::1]:") {
		t.Fatalf("Addr %v", tun.Addr())
	}
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "over IPv6")
	c.Close()
	logs.waitLine(t, "connection closed", "peer=[::1]:")
}

func TestUnixListenAndTarget(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "unix", sockPath(t, "be.sock"), nil, echo)
	path := sockPath(t, "tun.sock")
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Listen: unixAddr(path),
		Target: be.addr(), Limits: testLimits(), TLS: p.ServerTLS(t)})
	logs.waitLine(t, "tunnel listening", "listen=unix:"+path, "target=unix:")
	c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
	expectEcho(t, c, "over unix sockets")
	c.Close()
	logs.waitLine(t, "connection closed", "peer=unix:@", "reason=")

	tun.Close()
	if _, err := net.Dial("unix", path); err == nil {
		t.Fatal("socket still answers after Close")
	}
	if _, err := tls.Dial("unix", path, p.ClientTLS(t)); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}
