package proxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func TestSNIPick(t *testing.T) {
	a, b, c, d := namedTunnel("a", "a.example"), namedTunnel("b", "*.b.example"),
		namedTunnel("c", "x.b.example", "*.C.Example"), namedTunnel("d")
	d.opts.Load().SNIDefault = true
	withDefault, without := buildRoutes([]*Tunnel{a, b, c, d}), buildRoutes([]*Tunnel{a, b, c})
	for _, tc := range []struct {
		name       string
		want, none *Tunnel // with the default, and without it
	}{
		{"a.example", a, a},
		{"A.EXAMPLE", a, a},
		{"y.b.example", b, b},
		{"x.b.example", c, c}, // exact beats wildcard
		{"Q.c.example", c, c},
		{"b.example", d, nil},        // the wildcard needs a label
		{"z.y.b.example", d, nil},    // and only one
		{"a.example.evil", d, nil},   // no suffix match
		{"", d, nil},                 // no SNI
		{"localhost", d, nil},        // unknown
		{"xa.example", d, nil},       // no partial label
		{".b.example", d, nil},       // an empty label is no label
		{"example", d, nil},          // no dot at all
		{"*.b.example", b, b},        // a literal "*" is one more label
		{"other.c.example.", d, nil}, // crypto/tls refuses a trailing dot before this
	} {
		if got := withDefault.pick(tc.name); got != tc.want {
			t.Errorf("pick(%q) with a default = %v, want %v", tc.name, tunnelName(got), tunnelName(tc.want))
		}
		if got := without.pick(tc.name); got != tc.none {
			t.Errorf("pick(%q) without a default = %v, want %v", tc.name, tunnelName(got), tunnelName(tc.none))
		}
	}
}

func TestSNIRouteBounds(t *testing.T) {
	a, b := namedTunnel("a", "a.example"), namedTunnel("b", "b.example")
	a.opts.Load().Limits = Limits{MaxConnections: 10, PerSourceHandshakes: 4, HandshakeTimeout: 3 * time.Second}
	b.opts.Load().Limits = Limits{MaxConnections: 5, PerSourceHandshakes: 8, HandshakeTimeout: 2 * time.Second}
	r := buildRoutes([]*Tunnel{a, b})
	if r.total != 15 || r.perSource != 8 || r.timeout != 2*time.Second {
		t.Errorf("bounds total %d, per source %d, timeout %v; want 15, 8, 2s", r.total, r.perSource, r.timeout)
	}
	b.opts.Load().Limits.PerSourceHandshakes = 0
	if r := buildRoutes([]*Tunnel{a, b}); r.perSource != 0 {
		t.Errorf("per source %d with an unlimited tunnel, want 0 (no limit)", r.perSource)
	}
	if r := buildRoutes(nil); r.timeout != defaultHelloTimeout || r.pick("a.example") != nil {
		t.Errorf("empty table: timeout %v, routes %v", r.timeout, r.exact)
	}
}

func namedTunnel(name string, names ...string) *Tunnel {
	t := &Tunnel{}
	t.opts.Store(&Options{Name: name, Mode: ModeServer, ServerNames: names})
	return t
}

func tunnelName(t *Tunnel) string {
	if t == nil {
		return "<none>"
	}
	return t.name()
}

// sniSetup is a Group with tunnels that each present their own certificate
// (CN = the tunnel's name, valid for its names) and reach their own
// backend, which greets with the tunnel's name.
type sniSetup struct {
	p    *pkitest.PKI
	g    *Group
	logs *logBuf
}

func startGroup(t *testing.T) *sniSetup {
	t.Helper()
	s := &sniSetup{p: pkitest.NewPKI(t), logs: &logBuf{}}
	g, err := ListenGroup(tcpAddr("127.0.0.1:0"), 0, s.logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	s.g = g
	done := make(chan error, 1)
	go func() { done <- g.Serve() }()
	t.Cleanup(func() {
		g.Close()
		if err := <-done; err != nil {
			t.Errorf("group Serve: %v", err)
		}
	})
	return s
}

// join adds tunnel name with server names (sni_default when def).
func (s *sniSetup) join(t *testing.T, name string, def bool, limits Limits, names ...string) *Tunnel {
	t.Helper()
	be := startBackend(t, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
		if _, err := io.WriteString(c, name+"\n"); err == nil {
			echo(c)
		}
	})
	conf := s.p.ServerTLS(t)
	conf.ClientAuth = tls.NoClientCert
	conf.Certificates = []tls.Certificate{s.p.Leaf(t, name, func(c *x509.Certificate) {
		c.DNSNames = append(c.DNSNames, "*.example")
		for _, n := range names {
			c.DNSNames = append(c.DNSNames, strings.Replace(n, "*", "x", 1))
		}
	})}
	tun, err := s.g.Join(Options{Name: name, Mode: ModeServer, Listen: s.g.listen, Target: be.addr(),
		Limits: limits, TLS: conf, Logger: s.logs.logger(), ServerNames: names, SNIDefault: def})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tun.Serve() }()
	t.Cleanup(func() {
		tun.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve of %s: %v", name, err)
		}
	})
	return tun
}

// reach connects asking for serverName and returns the greeting and the
// subject of the certificate the handshake showed.
func (s *sniSetup) reach(t *testing.T, serverName string) (greeting, subject string, err error) {
	t.Helper()
	c := tls.Client(dialPlain(t, s.g.Addr()), &tls.Config{ServerName: serverName, RootCAs: s.p.Pool})
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	if err := c.Handshake(); err != nil {
		return "", "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), c.ConnectionState().PeerCertificates[0].Subject.CommonName, err
}

func (s *sniSetup) expectReach(t *testing.T, serverName, want string) {
	t.Helper()
	greeting, subject, err := s.reach(t, serverName)
	if err != nil || greeting != want || subject != want {
		t.Fatalf("%q reached %q with certificate %q (%v), want %q for both", serverName, greeting, subject, err, want)
	}
}

func (s *sniSetup) expectUnknown(t *testing.T, serverName string, count uint64) {
	t.Helper()
	_, _, err := s.reach(t, serverName)
	if err == nil || !strings.Contains(err.Error(), "unrecognized name") {
		t.Fatalf("%q: handshake error %v, want the unrecognized_name alert", serverName, err)
	}
	eventually(t, func() bool { return s.g.Stats().Refused[reasonUnknownSNI] == count },
		"unknown_sni count %d; stats %+v", count, s.g.Stats().Refused)
	if net.ParseIP(serverName) == nil {
		s.logs.waitLine(t, "connection refused", "reason=unknown_sni", "server_name="+serverName)
	}
}

func TestGroupRoutesBySNI(t *testing.T) {
	s := startGroup(t)
	s.join(t, "a", false, testLimits(), "a.example")
	s.join(t, "b", false, testLimits(), "*.b.example")
	s.expectReach(t, "a.example", "a")
	s.expectReach(t, "X.B.example", "b")
	s.expectUnknown(t, "b.example", 1)
	s.expectUnknown(t, "127.0.0.1", 2) // Go sends no SNI for an IP address
}

// Tunnels join and leave a running group: the listener stays, the names
// follow, a connection open on a tunnel that left goes on.
func TestGroupJoinLeaveUpdate(t *testing.T) {
	s := startGroup(t)
	a := s.join(t, "a", false, testLimits(), "a.example")
	c := tls.Client(dialPlain(t, s.g.Addr()), &tls.Config{ServerName: "a.example", RootCAs: s.p.Pool})
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || line != "a\n" {
		t.Fatalf("greeting %q (%v)", line, err)
	}
	d := s.join(t, "d", true, testLimits())
	s.expectReach(t, "unknown.example", "d")
	if _, err := s.g.Join(Options{Name: "e", Mode: ModeServer, Listen: s.g.listen, Target: tcpAddr("127.0.0.1:1"),
		TLS: &tls.Config{}, ServerNames: []string{"A.example"}}); err == nil || !strings.Contains(err.Error(), `"A.example" is tunnel "a"'s`) {
		t.Errorf("join with a name taken: %v", err)
	}
	opts := *a.opts.Load()
	opts.ServerNames = []string{"a2.example"}
	if err := a.Update(opts); err != nil {
		t.Fatal(err)
	}
	s.expectReach(t, "a.example", "d") // a let go of it
	if err := a.StopAccepting(); err != nil {
		t.Fatal(err)
	}
	s.expectReach(t, "a2.example", "d")
	expectEcho(t, c, "still open on a tunnel that left")
	if err := d.StopAccepting(); err != nil {
		t.Fatal(err)
	}
	s.expectUnknown(t, "a2.example", 1)
	if n := s.g.Members(); n != 0 {
		t.Errorf("%d members left", n)
	}
}

func TestGroupRefusesBadMembers(t *testing.T) {
	s := startGroup(t)
	base := Options{Name: "x", Mode: ModeServer, Listen: s.g.listen, Target: tcpAddr("127.0.0.1:1"), TLS: &tls.Config{}}
	for _, tc := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) {}, "needs server names or to be the default"},
		{func(o *Options) { o.Mode, o.SNIDefault = ModeClient, true }, "for server tunnels"},
		{func(o *Options) {
			o.SNIDefault, o.ProxyProtocol = true, ProxyProtocol{Accept: "v2", Trusted: []string{"10.0.0.0/8"}}
		}, "proxy_protocol.accept"},
		{func(o *Options) { o.ServerNames = []string{"a.*.example"} }, "want a name"},
		{func(o *Options) { o.ServerNames, o.Listen = []string{"a.example"}, tcpAddr("127.0.0.1:1") }, "not the group's"},
	} {
		o := base
		tc.edit(&o)
		if _, err := s.g.Join(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Join(%+v): %v, want %q", o, err, tc.want)
		}
	}
}
