package integration

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"
)

// The client address a test balancer claims, and the address it says the
// client reached.
var (
	balancedClient = &net.TCPAddr{IP: net.ParseIP("203.0.113.7").To4(), Port: 4242}
	balancedDst    = &net.TCPAddr{IP: net.ParseIP("192.0.2.1").To4(), Port: 443}
)

// withBlocks is a tunnel's HCL with extra lines in its body (blocks such as
// proxy_protocol { }), and extra lines in its tls block.
func withBlocks(c tun, tlsLines, body string) string {
	h := strings.Replace(c.hcl(), "  tls {\n", "  tls {\n"+tlsLines, 1)
	return strings.TrimSuffix(h, "}\n") + body + "}\n"
}

// headerBackend is a daemon that parses the PROXY header passtunnel sends,
// reports it, then echoes lines.
func headerBackend(t *testing.T) (*backend, <-chan *proxyproto.Header) {
	ch := make(chan *proxyproto.Header, 8)
	be := startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		br := bufio.NewReader(c)
		h, err := proxyproto.Read(br)
		if err != nil {
			t.Errorf("backend: no PROXY header: %v", err)
			return
		}
		ch <- h
		_, _ = io.Copy(c, br)
		closeWrite(c)
	})
	return be, ch
}

func nextHeader(t *testing.T, ch <-chan *proxyproto.Header) *proxyproto.Header {
	t.Helper()
	select {
	case h := <-ch:
		return h
	case <-time.After(ioTimeout):
		t.Fatal("backend got no connection")
		return nil
	}
}

// balance connects to addr as a load balancer does: a PROXY header, then
// the client's TLS handshake.
func balance(t *testing.T, addr string, version byte, cfg *tls.Config) *tls.Conn {
	t.Helper()
	raw := dial(t, addr)
	if _, err := proxyproto.HeaderProxyFromAddrs(version, balancedClient, balancedDst).WriteTo(raw); err != nil {
		t.Fatalf("write PROXY header: %v", err)
	}
	c := tls.Client(raw, cfg)
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if err := c.Handshake(); err != nil {
		t.Fatalf("TLS after a PROXY header: %v", err)
	}
	return c
}

// TestProxyProtocol: a balancer's v1 and v2 headers are accepted from a
// trusted address; the daemon gets the claimed client in a v2 header with
// the TLS TLVs (or in a v1 header); untrusted senders, garbage and silence
// are refused, while the other tunnels of the process keep working.
func TestProxyProtocol(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be2, got2 := headerBackend(t)
	be1, got1 := headerBackend(t)
	echoBe := startEcho(t)
	pt := runText(t, configBlocks(
		withBlocks(f.serverTun("ppv2", "127.0.0.1:0", be2.addr), "    alpn = [\"pt-test\"]\n",
			"  proxy_protocol {\n    accept = \"any\"\n    trusted = [\"127.0.0.1/32\"]\n    send = \"v2\"\n    tls_tlvs = true\n  }\n"),
		withBlocks(f.serverTun("ppv1", "127.0.0.1:0", be1.addr), "",
			"  limits { handshake_timeout = \"1s\" }\n  proxy_protocol {\n    accept = \"v2\"\n    trusted = [\"127.0.0.1\"]\n    send = \"v1\"\n  }\n"),
		withBlocks(f.serverTun("untrusted", "127.0.0.1:0", echoBe.addr), "",
			"  proxy_protocol {\n    accept = \"any\"\n    trusted = [\"192.0.2.0/24\"]\n  }\n")), nil)
	v2Addr, v1Addr, untrusted := pt.listenAddr(t, "ppv2"), pt.listenAddr(t, "ppv1"), pt.listenAddr(t, "untrusted")
	cfg := f.clientTLS(f.client)
	cfg.NextProtos = []string{"pt-test"}

	for _, version := range []byte{1, 2} {
		c := balance(t, v2Addr, version, cfg)
		roundTrip(t, c, bufio.NewReader(c), "behind a balancer", "behind a balancer")
		h := nextHeader(t, got2)
		if h.Version != 2 || h.SourceAddr.String() != balancedClient.String() {
			t.Errorf("balancer sent v%d: daemon got v%d from %v, want v2 from %v", version, h.Version, h.SourceAddr, balancedClient)
		}
		checkTLVs(t, h)
		c.Close()
	}
	closed := pt.mustLog(t, ioTimeout, "close line with the claimed peer",
		logMatch("connection closed", "tunnel", "ppv2", "peer", balancedClient.String()))
	if !strings.HasPrefix(closed.str("via"), "127.0.0.1:") {
		t.Errorf("close line via = %q, want the balancer 127.0.0.1:port", closed.str("via"))
	}

	c := balance(t, v1Addr, 2, f.clientTLS(f.client))
	roundTrip(t, c, bufio.NewReader(c), "to a v1 daemon", "to a v1 daemon")
	if h := nextHeader(t, got1); h.Version != 1 || h.SourceAddr.String() != balancedClient.String() {
		t.Errorf("daemon got v%d from %v, want v1 from %v", h.Version, h.SourceAddr, balancedClient)
	}

	refusals(t, pt, f, untrusted, v1Addr, v2Addr, cfg)
}

func checkTLVs(t *testing.T, h *proxyproto.Header) {
	t.Helper()
	tlvs, err := h.TLVs()
	if err != nil {
		t.Fatalf("TLVs: %v", err)
	}
	alpn := ""
	for _, tlv := range tlvs {
		if tlv.Type == proxyproto.PP2_TYPE_ALPN {
			alpn = string(tlv.Value)
		}
	}
	ssl, ok := tlvparse.FindSSL(tlvs)
	cn, _ := ssl.ClientCN()
	if !ok || alpn != "pt-test" || cn != "it-client" || !ssl.Verified() || !ssl.ClientSSL() {
		t.Errorf("TLVs: alpn %q, SSL TLV %v, CN %q, verified %v; want pt-test, CN it-client, verified", alpn, ok, cn, ssl.Verified())
	}
}

func refusals(t *testing.T, pt *proc, f *fixture, untrusted, v1Addr, v2Addr string, cfg *tls.Config) {
	t.Helper()
	c := dial(t, untrusted)
	_, _ = proxyproto.HeaderProxyFromAddrs(1, balancedClient, balancedDst).WriteTo(c)
	expectClosed(t, c, ioTimeout)
	pt.mustLog(t, ioTimeout, "refusal proxy_untrusted",
		logMatch("connection refused", "tunnel", "untrusted", "reason", "proxy_untrusted"))

	garbage := dial(t, v1Addr)
	_, _ = io.WriteString(garbage, "GET / HTTP/1.0\r\n\r\n")
	expectClosed(t, garbage, ioTimeout)
	e := pt.mustLog(t, ioTimeout, "refusal proxy_header (garbage)",
		logMatch("connection refused", "tunnel", "ppv1", "reason", "proxy_header"))
	if !strings.Contains(e.str("error"), "does not start with one") {
		t.Errorf("garbage refused with %q, want at once, not at the timeout", e.str("error"))
	}

	start := time.Now()
	silent := dial(t, v1Addr)
	other := balance(t, v2Addr, 2, cfg) // the tunnel next door works meanwhile
	roundTrip(t, other, bufio.NewReader(other), "meanwhile", "meanwhile")
	expectClosed(t, silent, ioTimeout)
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("silent trusted peer closed after %v, before handshake_timeout (1s)", d)
	}
	pt.mustLog(t, ioTimeout, "refusal proxy_header (timeout)", func(e logEntry) bool {
		return logMatch("connection refused", "tunnel", "ppv1", "reason", "proxy_header")(e) &&
			strings.Contains(e.str("error"), "within handshake_timeout")
	})
}

// TestProxyProtocolFlags: the one-tunnel flags reach the same code.
func TestProxyProtocolFlags(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be, got := headerBackend(t)
	pt := startFlags(t, "server", "--listen", "127.0.0.1:0", "--target", be.addr, "--cert", f.server.cert,
		"--key", f.server.key, "--ca", f.caA, "--proxy-protocol-send", "v1", "--accept-rate", "100")
	c := dialTLS(t, pt.listenAddr(t, ""), f.clientTLS(f.client))
	roundTrip(t, c, bufio.NewReader(c), "flags", "flags")
	if h := nextHeader(t, got); h.Version != 1 || h.SourceAddr.String() != c.LocalAddr().String() {
		t.Errorf("daemon got v%d from %v, want v1 from %v", h.Version, h.SourceAddr, c.LocalAddr())
	}
}

// TestProxyV2TLVOverrun: a PROXY v2 header whose TLV claims more bytes than
// the header holds is refused (proxy_malformed), never believed: the client
// address it claims reaches neither the target nor the logs as a peer.
func TestProxyV2TLVOverrun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be, got := headerBackend(t)
	pt := runText(t, configBlocks(withBlocks(f.serverTun("pp", "127.0.0.1:0", be.addr), "",
		"  proxy_protocol {\n    accept = \"v2\"\n    trusted = [\"127.0.0.1/32\"]\n    send = \"v2\"\n  }\n")), nil)
	addr := pt.listenAddr(t, "pp")

	// A v2 PROXY TCP4 header: signature, version/command, family, length;
	// 12 bytes of addresses, then one TLV of type 0x04 (NOOP) that claims
	// 100 bytes while 1 follows: length 12 + 3 + 1 = 16.
	h := []byte("\r\n\r\n\x00\r\nQUIT\n")
	h = append(h, 0x21, 0x11, 0x00, 16)
	h = append(h, 203, 0, 113, 7, 198, 51, 100, 1, 0x30, 0x39, 0x01, 0xbb)
	h = append(h, 0x04, 0x00, 100, 'x')
	c := dial(t, addr)
	if _, err := c.Write(h); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c, ioTimeout)
	pt.mustLog(t, ioTimeout, "refusal proxy_malformed",
		logMatch("connection refused", "tunnel", "pp", "reason", "proxy_malformed"))
	select {
	case hd := <-got:
		t.Fatalf("the target got a connection claiming %v", hd.SourceAddr)
	default:
	}
	if pt.logs(logMatch("connection closed", "peer", "203.0.113.7:12345")) != nil {
		t.Error("the claimed client became a peer in the logs")
	}
}
