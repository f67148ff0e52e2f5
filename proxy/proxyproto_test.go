package proxy

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// A balancer's v1 or v2 header, then TLS: the target gets a v2 header with
// the client the balancer named, and TLVs describing the client's TLS
// connection. Bytes that arrive with the header (the ClientHello in the
// same segment) are not lost.
func TestProxyServerModeAcceptAndSendTLVs(t *testing.T) {
	p := pkitest.NewPKI(t)
	be, headers := headerBackend(t, "tcp", "127.0.0.1:0")
	sconf := p.ServerTLS(t)
	sconf.NextProtos = []string{"pt-test"}
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: testLimits(), TLS: sconf,
		ProxyProtocol: pp("any", []string{"127.0.0.1/32"}, "v2", true)})
	cconf := p.ClientTLS(t)
	cconf.NextProtos = []string{"pt-test"}

	cases := []struct {
		name     string
		version  byte
		src, dst *net.TCPAddr
		coalesce bool
	}{
		{"v1", 1, claimedClient, claimedDst, false},
		{"v2 coalesced with the ClientHello", 2, claimedV6, claimedV6Dst, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsAfterHeader(t, tun.Addr(), headerBytes(t, tc.version, tc.src, tc.dst), tc.coalesce, cconf)
			expectEcho(t, c, "through a balancer")
			h := nextHeader(t, headers)
			if h.Version != 2 || h.SourceAddr.String() != tc.src.String() {
				t.Errorf("target got v%d from %v, want v2 from %v", h.Version, h.SourceAddr, tc.src)
			}
			if h.DestinationAddr.(*net.TCPAddr).Port != tun.Addr().(*net.TCPAddr).Port {
				t.Errorf("destination %v, want the tunnel's address %v", h.DestinationAddr, tun.Addr())
			}
			checkTLVs(t, h, "pt-test", "localhost", "client")
			c.Close()
			logs.waitLine(t, "connection closed", "peer="+tc.src.String(), "via=127.0.0.1:")
		})
	}
}

// checkTLVs finds the ALPN, SNI and PP2_TYPE_SSL a backend relies on.
func checkTLVs(t *testing.T, h *proxyproto.Header, alpn, sni, cn string) {
	t.Helper()
	tlvs, err := h.TLVs()
	if err != nil {
		t.Fatal(err)
	}
	got := map[proxyproto.PP2Type]string{}
	for _, tlv := range tlvs {
		got[tlv.Type] = string(tlv.Value)
	}
	if got[proxyproto.PP2_TYPE_ALPN] != alpn || got[proxyproto.PP2_TYPE_AUTHORITY] != sni {
		t.Errorf("ALPN %q, authority %q; want %q, %q", got[proxyproto.PP2_TYPE_ALPN], got[proxyproto.PP2_TYPE_AUTHORITY], alpn, sni)
	}
	ssl, ok := tlvparse.FindSSL(tlvs)
	if !ok {
		t.Fatal("no PP2_TYPE_SSL")
	}
	gotCN, _ := ssl.ClientCN()
	version, _ := ssl.SSLVersion()
	if !ssl.ClientSSL() || !ssl.ClientCertConn() || !ssl.Verified() || gotCN != cn || !strings.HasPrefix(version, "TLSv1.") {
		t.Errorf("SSL TLV: client %#x verify %d CN %q version %q; want TLS, a verified certificate, CN %q",
			ssl.Client, ssl.Verify, gotCN, version, cn)
	}
}

// Client mode accepts a header too (cleartext in): the client's first bytes
// may come in the same segment as the header.
func TestProxyClientModeAccept(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", p.ServerTLS(t), echo)
	tun, logs := startTunnel(t, Options{Mode: ModeClient, Target: be.addr(), Limits: testLimits(),
		TLS: p.ClientTLS(t), ProxyProtocol: pp("v1", []string{"127.0.0.0/8"}, "none", false)})
	c := &coalesced{Conn: dialPlain(t, tun.Addr()), head: headerBytes(t, 1, claimedClient, claimedDst)}
	expectEcho(t, c, "first bytes with the header")
	expectEcho(t, c, "and more")
	c.Close()
	logs.waitLine(t, "connection closed", "peer="+claimedClient.String(), "via=127.0.0.1:", "bytes_in=")
}

// A client tunnel that sends a header, in front of a server tunnel that
// accepts it and sends one on: the daemon learns the original client.
func TestProxyClientSendToServerAccept(t *testing.T) {
	p := pkitest.NewPKI(t)
	be, headers := headerBackend(t, "tcp", "127.0.0.1:0")
	srv, _ := startTunnel(t, Options{Name: "srv", Mode: ModeServer, Target: be.addr(), Limits: testLimits(),
		TLS: p.ServerTLS(t), ProxyProtocol: pp("v2", []string{"127.0.0.1"}, "v1", false)})
	cli, _ := startTunnel(t, Options{Name: "cli", Mode: ModeClient, Target: addrOf(srv.Addr()),
		Limits: testLimits(), TLS: p.ClientTLS(t), ProxyProtocol: pp("none", nil, "v2", true)})
	c := dialPlain(t, cli.Addr())
	expectEcho(t, c, "end to end")
	h := nextHeader(t, headers)
	if h.Version != 1 || h.SourceAddr.String() != c.LocalAddr().String() {
		t.Errorf("daemon got v%d from %v, want v1 from the original client %v", h.Version, h.SourceAddr, c.LocalAddr())
	}
}

// A unix-socket target gets the inet addresses; a client on a unix socket
// has none to give, so the header is LOCAL (v2) or UNKNOWN (v1).
func TestProxySendUnix(t *testing.T) {
	p := pkitest.NewPKI(t)
	for _, tc := range []struct {
		name       string
		send       string
		unixListen bool
		local      bool
	}{
		{"tcp client, unix target, v2", "v2", false, false},
		{"unix client, v2", "v2", true, true},
		{"unix client, v1", "v1", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be, headers := headerBackend(t, "unix", sockPath(t, "be.sock"))
			opts := Options{Mode: ModeServer, Target: be.addr(), Limits: testLimits(), TLS: p.ServerTLS(t),
				ProxyProtocol: pp("none", nil, tc.send, false)}
			if tc.unixListen {
				opts.Listen = unixAddr(sockPath(t, "in.sock"))
			}
			tun, _ := startTunnel(t, opts)
			c := dialTLS(t, tun.Addr(), p.ClientTLS(t))
			expectEcho(t, c, "hello")
			h := nextHeader(t, headers)
			if got := h.Command.IsLocal(); got != tc.local {
				t.Errorf("LOCAL = %v, want %v (header %+v)", got, tc.local, h)
			}
			if !tc.local && (h.TransportProtocol != proxyproto.TCPv4 || h.SourceAddr.String() != c.LocalAddr().String()) {
				t.Errorf("header %v from %v, want TCP4 from %v", h.TransportProtocol, h.SourceAddr, c.LocalAddr())
			}
		})
	}
}

// A LOCAL header is the balancer's own connection (a health check): it is
// served, with the balancer's address as the peer.
func TestProxyAcceptLocal(t *testing.T) {
	p := pkitest.NewPKI(t)
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, echo)
	tun, logs := startTunnel(t, Options{Mode: ModeServer, Target: be.addr(), Limits: testLimits(),
		TLS: p.ServerTLS(t), ProxyProtocol: pp("v2", []string{"127.0.0.1/32"}, "none", false)})
	local, err := (&proxyproto.Header{Version: 2, Command: proxyproto.LOCAL}).Format()
	if err != nil {
		t.Fatal(err)
	}
	c := tlsAfterHeader(t, tun.Addr(), local, false, p.ClientTLS(t))
	expectEcho(t, c, "health check")
	c.Close()
	line := logs.waitLine(t, "connection closed", "peer="+c.LocalAddr().String())
	if strings.Contains(line, "via=") {
		t.Errorf("LOCAL header logged a balancer: %s", line)
	}
}

func TestProxyTrusted(t *testing.T) {
	o := Options{ProxyProtocol: pp("any", []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}, "", false)}
	if err := validateProxyProtocol(&o); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[net.Addr]bool{
		&net.TCPAddr{IP: net.ParseIP("10.1.2.3")}:           true,
		&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3")}:    true, // a v4-mapped peer on a dual-stack listener
		&net.TCPAddr{IP: net.ParseIP("192.0.2.7")}:          true,
		&net.TCPAddr{IP: net.ParseIP("192.0.2.8")}:          false,
		&net.TCPAddr{IP: net.ParseIP("2001:db8:1::1")}:      true,
		&net.TCPAddr{IP: net.ParseIP("2001:db9::1")}:        false,
		&net.UnixAddr{Name: "@", Net: "unix"}:               true,
		&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}: false,
	} {
		if got := o.trusts(addr); got != want {
			t.Errorf("trusts(%v) = %v, want %v", addr, got, want)
		}
	}
	bad := Options{ProxyProtocol: pp("any", []string{"10.0.0.0/33"}, "", false)}
	if err := validateProxyProtocol(&bad); err == nil || !strings.Contains(err.Error(), `proxy_protocol.trusted: invalid CIDR "10.0.0.0/33"`) {
		t.Errorf("bad CIDR: %v", err)
	}
	if _, err := Listen(Options{Mode: ModeServer, Listen: tcpAddr("127.0.0.1:0"), Target: tcpAddr("127.0.0.1:1"),
		TLS: &tls.Config{}, ProxyProtocol: pp("v3", nil, "", false)}); err == nil {
		t.Error("Listen accepted proxy_protocol.accept v3")
	}
}
