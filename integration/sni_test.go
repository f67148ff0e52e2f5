package integration

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// sniTun is a server tunnel routed by SNI, presenting its own certificate
// (CN sni-NAME, valid for its names), trusting CA A.
type sniTun struct {
	name, listen, target string
	names                []string
	def                  bool
	cert                 pair
	limits               string // body of a limits block, "" for none
}

// sniPKI is the CA the tunnels' certificates come from, as a file for
// openssl and as a pool for Go clients.
type sniPKI struct {
	dir    string
	ca     *pkitest.Authority
	caFile string
	pool   *x509.CertPool
}

func newSNIPKI(t *testing.T) *sniPKI {
	t.Helper()
	p := &sniPKI{dir: t.TempDir(), ca: newAuthority(t, "passtunnel-it SNI CA"), pool: x509.NewCertPool()}
	p.caFile = writeFile(t, p.dir, "sni-ca.pem", p.ca.CertPEM())
	p.pool.AddCert(p.ca.Cert)
	return p
}

func (p *sniPKI) tun(t *testing.T, name, listen, target string, names ...string) sniTun {
	t.Helper()
	dns := []string{"localhost"}
	for _, n := range names {
		dns = append(dns, strings.Replace(n, "*", "x", 1))
	}
	cert := issue(t, p.ca, p.dir, "sni-"+name, pkitest.LeafSpec{CommonName: "sni-" + name, DNSNames: dns, Server: true})
	return sniTun{name: name, listen: listen, target: target, names: names, cert: cert}
}

func (s sniTun) hcl() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tunnel %q {\n  mode   = \"server\"\n  listen = %q\n  target = %q\n", s.name, s.listen, s.target)
	if len(s.names) > 0 {
		fmt.Fprintf(&b, "  server_names = [%q", s.names[0])
		for _, n := range s.names[1:] {
			fmt.Fprintf(&b, ", %q", n)
		}
		b.WriteString("]\n")
	}
	if s.def {
		b.WriteString("  sni_default = true\n")
	}
	fmt.Fprintf(&b, "  tls {\n    cert = %q\n    key = %q\n    client_auth = \"none\"\n  }\n", s.cert.cert, s.cert.key)
	if s.limits != "" {
		fmt.Fprintf(&b, "  limits {\n%s\n  }\n", s.limits)
	}
	b.WriteString("}\n")
	return b.String()
}

// sniConfig is a config with an admin endpoint and the tunnels.
func sniConfig(tunnels ...sniTun) string {
	return "admin = \"127.0.0.1:0\"\n" + configText(tunnels...)
}

// sniReach connects with openssl s_client asking for serverName and returns
// what it printed of the peer's certificate and the first line the target
// sent; "" for both when the handshake fails.
func sniReach(t *testing.T, openssl, addr string, p *sniPKI, serverName string) (subject, greeting string) {
	t.Helper()
	c := startProc(t, openssl, []string{"s_client", "-connect", addr, "-servername", serverName,
		"-CAfile", p.caFile, "-verify_return_error", "-brief"}, procOpts{stdin: true})
	defer c.kill()
	// -brief prints the peer's subject, then "Verification", on stderr;
	// a refused handshake prints the alert there instead.
	ok := func(l string) bool { return strings.HasPrefix(l, "Verification") || strings.Contains(l, "alert") }
	if line, found := c.stderr.wait(c.done, ioTimeout, ok); !found || !strings.HasPrefix(line, "Verification") {
		return "", ""
	}
	for _, l := range strings.Split(c.stderr.String(), "\n") {
		if s, ok := strings.CutPrefix(l, "Peer certificate: "); ok {
			subject = s
		}
	}
	// Greeters here are "backend-" and one letter: a whole greeting, not
	// the start of one.
	greeting, _ = c.stdout.wait(c.done, ioTimeout, func(l string) bool {
		return strings.HasPrefix(l, "backend-") && len(l) == len("backend-a")
	})
	return subject, greeting
}

// TestSNIRoutingOpenSSL: two server tunnels on one port, each with its own
// certificate and target; openssl s_client picks one or the other by
// -servername, an unknown name is refused, counted and logged, and an
// sni_default tunnel takes the unknown names.
func TestSNIRoutingOpenSSL(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	p := newSNIPKI(t)
	a := p.tun(t, "a", "127.0.0.1:0", greeter(t, "backend-a").addr, "a.example")
	b := p.tun(t, "b", "127.0.0.1:0", greeter(t, "backend-b").addr, "*.b.example")
	pt := runText(t, sniConfig(a, b), nil)
	addr := pt.listenAddr(t, "a")
	if other := pt.listenAddr(t, "b"); other != addr {
		t.Fatalf("tunnels a and b listen on %s and %s, want one shared port", addr, other)
	}
	admin := newAdminClient(t, pt.adminAddr(t, 0))

	for _, tc := range []struct{ name, subject, greeting string }{
		{"a.example", "CN = sni-a", "backend-a"},
		{"x.b.example", "CN = sni-b", "backend-b"},
		{"A.Example", "CN = sni-a", "backend-a"},
	} {
		subject, greeting := sniReach(t, openssl, addr, p, tc.name)
		if subject != tc.subject || greeting != tc.greeting {
			t.Errorf("-servername %s: certificate %q, target said %q; want %q and %q",
				tc.name, subject, greeting, tc.subject, tc.greeting)
		}
	}
	if subject, greeting := sniReach(t, openssl, addr, p, "b.example"); subject != "" || greeting != "" {
		t.Errorf("-servername b.example (no tunnel's name) reached %q with certificate %q", greeting, subject)
	}
	pt.mustLog(t, ioTimeout, "unknown_sni refusal", logMatch("connection refused", "reason", "unknown_sni",
		"server_name", "b.example"))
	admin.waitMetric(t, `passtunnel_sni_refused_total{listen="127.0.0.1:0",reason="unknown_sni"}`, 1, ioTimeout)

	d := p.tun(t, "d", "127.0.0.1:0", greeter(t, "backend-d").addr, "d.example")
	d.def = true
	pt2 := runText(t, sniConfig(a, d), nil)
	if subject, greeting := sniReach(t, openssl, pt2.listenAddr(t, "d"), p, "localhost"); subject != "CN = sni-d" ||
		greeting != "backend-d" {
		t.Errorf("unknown name with sni_default on d: certificate %q, target %q", subject, greeting)
	}
}

// sniSession opens a TLS connection asking for serverName and reads the
// target's greeting, which must be want.
func sniSession(t *testing.T, p *sniPKI, addr, serverName, want string) *session {
	t.Helper()
	tc := tls.Client(dial(t, addr), &tls.Config{ServerName: serverName, RootCAs: p.pool})
	s := &session{c: tc, r: bufio.NewReader(tc)}
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	got, err := s.r.ReadString('\n')
	if err != nil || strings.TrimSuffix(got, "\n") != want {
		t.Fatalf("%s via %s: greeting %q (%v), want %q", serverName, addr, got, err, want)
	}
	return s
}

// sniRefused checks that a handshake asking for serverName is refused
// with the unrecognized_name alert.
func sniRefused(t *testing.T, p *sniPKI, addr, serverName string) {
	t.Helper()
	tc := tls.Client(dial(t, addr), &tls.Config{ServerName: serverName, RootCAs: p.pool})
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	if err := tc.Handshake(); err == nil || !strings.Contains(err.Error(), "unrecognized name") {
		t.Fatalf("%s: handshake error %v, want the unrecognized_name alert", serverName, err)
	}
}

// TestSNIReload: a reload adds a tunnel to a shared port and removes it
// again without closing the listener: an open connection goes on, the new
// name works, then stops matching.
func TestSNIReload(t *testing.T) {
	t.Parallel()
	p := newSNIPKI(t)
	a := p.tun(t, "a", "127.0.0.1:0", greeter(t, "backend-a").addr, "a.example")
	b := p.tun(t, "b", "127.0.0.1:0", greeter(t, "backend-b").addr, "b.example")
	c := p.tun(t, "c", "127.0.0.1:0", greeter(t, "backend-c").addr, "c.example")
	pt := startReloadable(t, configText(a, b))
	addr := pt.listenAddr(t, "a")
	open := sniSession(t, p, addr, "a.example", "backend-a")
	sniRefused(t, p, addr, "c.example")

	expectCounts(t, pt.reload(t, configText(a, b, c)), 1, 0, 0, 2)
	if got := pt.listenAddr(t, "c"); got != addr {
		t.Fatalf("tunnel c listens on %s, want the shared %s", got, addr)
	}
	sniSession(t, p, addr, "c.example", "backend-c").echo(t, "through the new tunnel")
	open.echo(t, "still open across the reload")

	expectCounts(t, pt.reload(t, configText(a, b)), 0, 1, 0, 2)
	sniRefused(t, p, addr, "c.example")
	open.echo(t, "still open across the second reload")
	sniSession(t, p, addr, "b.example", "backend-b")
	if n := len(pt.logs(logMatch("tunnel listening", "tunnel", "a"))); n != 1 {
		t.Errorf("tunnel a reported %d listeners, want 1: its listener must stay", n)
	}
}

// halfHello connects from local (nil: any) and sends the first half of a
// ClientHello for serverName, then nothing.
func halfHello(t *testing.T, addr string, local net.Addr, serverName string) net.Conn {
	t.Helper()
	w := &helloCapture{}
	_ = tls.Client(w, &tls.Config{ServerName: serverName}).Handshake()
	d := net.Dialer{LocalAddr: local, Timeout: ioTimeout}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %v: %v", addr, local, err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(w.out[:len(w.out)/2]); err != nil {
		t.Fatal(err)
	}
	return c
}

// helloCapture keeps what a TLS client writes and fails its first read.
type helloCapture struct {
	net.Conn
	out []byte
}

func (h *helloCapture) Write(b []byte) (int, error) { h.out = append(h.out, b...); return len(b), nil }
func (h *helloCapture) Read([]byte) (int, error)    { return 0, io.ErrUnexpectedEOF }

// TestSNIStalledHello: a client that sends half a ClientHello and stalls
// is cut at handshake_timeout, counted and logged.
func TestSNIStalledHello(t *testing.T) {
	t.Parallel()
	p := newSNIPKI(t)
	a := p.tun(t, "a", "127.0.0.1:0", greeter(t, "backend-a").addr, "a.example")
	a.limits = `    handshake_timeout = "1s"`
	b := p.tun(t, "b", "127.0.0.1:0", greeter(t, "backend-b").addr, "b.example")
	pt := runText(t, sniConfig(a, b), nil)
	addr := pt.listenAddr(t, "a")
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	c := halfHello(t, addr, nil, "b.example")
	if took := expectClosed(t, c, ioTimeout); took > 5*time.Second {
		t.Errorf("stalled ClientHello cut after %v, want about 1s (the smallest handshake_timeout)", took)
	}
	pt.mustLog(t, ioTimeout, "client_hello_timeout refusal",
		logMatch("connection refused", "reason", "client_hello_timeout"))
	admin.waitMetric(t, `passtunnel_sni_refused_total{listen="127.0.0.1:0",reason="client_hello_timeout"}`, 1, ioTimeout)
	sniSession(t, p, addr, "b.example", "backend-b")
}

// TestSNIHelloFloodPerSource: one source that opens many connections and
// never finishes its ClientHello holds per_source_handshakes of them, not
// the whole listener: another source still gets through.
func TestSNIHelloFloodPerSource(t *testing.T) {
	t.Parallel()
	p := newSNIPKI(t)
	limits := "    per_source_handshakes = 4\n    max_connections = 8\n    handshake_timeout = \"60s\""
	a := p.tun(t, "a", "127.0.0.1:0", greeter(t, "backend-a").addr, "a.example")
	b := p.tun(t, "b", "127.0.0.1:0", greeter(t, "backend-b").addr, "b.example")
	a.limits, b.limits = limits, limits
	pt := runText(t, sniConfig(a, b), nil)
	addr := pt.listenAddr(t, "a")
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	const flood = 20 // beyond the sum of max_connections, 16
	attacker := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
	for range flood {
		halfHello(t, addr, attacker, "a.example")
	}
	admin.waitMetric(t, `passtunnel_sni_refused_total{listen="127.0.0.1:0",reason="per_source_handshakes"}`,
		flood-4, ioTimeout)

	other := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}
	d := net.Dialer{LocalAddr: other, Timeout: ioTimeout}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		skipOrFail(t, "no second loopback source address 127.0.0.2: %v", err)
		return
	}
	t.Cleanup(func() { raw.Close() })
	tc := tls.Client(raw, &tls.Config{ServerName: "b.example", RootCAs: p.pool})
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	greeting, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil || greeting != "backend-b\n" {
		t.Fatalf("another source during the flood: greeting %q (%v), want backend-b", greeting, err)
	}
}
