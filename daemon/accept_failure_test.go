//go:build linux

package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/testwait"
	"github.com/passtunnel/passtunnel/pki"
)

// acceptTestWait bounds every wait of these tests.
const acceptTestWait = 10 * time.Second

// One tunnel's listener fails on every accept: the process keeps running,
// the other tunnel keeps carrying traffic, /readyz names the failing one
// until its listener works again, and the failures are counted.
func TestBrokenListenerLeavesFleetServing(t *testing.T) {
	server, roots := echoServerTunnel(t, "healthy", startEchoBackend(t))
	f := startTestFleet(t, "admin = \"127.0.0.1:0\"\n"+server+clientTunnel("broken", "127.0.0.1:0"))
	admin := startTestAdmin(t, f)
	healthy, broken := f.addr(t, "healthy"), f.addr(t, "broken")
	exited := runFleet(t, f)

	waitProbe(t, admin+"/readyz", http.StatusOK, "ready")
	fd := listenerFD(t, broken)
	if err := syscall.Shutdown(fd, syscall.SHUT_RD); err != nil { // every accept now fails with EINVAL
		t.Fatal(err)
	}
	body := waitProbe(t, admin+"/readyz", http.StatusServiceUnavailable, `tunnel "broken": listener failing: `)
	if strings.Contains(body, "healthy") {
		t.Errorf("/readyz blames the healthy tunnel too:\n%s", body)
	}
	echoThrough(t, healthy, roots, "the other tunnel carries on")
	metrics := waitProbe(t, admin+"/metrics", http.StatusOK, `passtunnel_accept_errors_total{tunnel="broken"}`)
	if n := metricValue(t, metrics, `passtunnel_accept_errors_total{tunnel="broken"}`); n < 1 {
		t.Errorf("broken tunnel: %v accept errors counted", n)
	}
	if n := metricValue(t, metrics, `passtunnel_accept_errors_total{tunnel="healthy"}`); n != 0 {
		t.Errorf("healthy tunnel: %v accept errors counted", n)
	}
	waitProbe(t, admin+"/healthz", http.StatusOK, "ok")
	select {
	case <-exited:
		t.Fatal("the fleet stopped on one tunnel's accept failures")
	default:
	}

	// The listener works again (same port): the next accept clears it.
	mendListener(t, fd, broken)
	if !accepts(broken) {
		t.Fatal("the mended listener does not accept")
	}
	waitProbe(t, admin+"/readyz", http.StatusOK, "ready")
	f.expectLog(t, "level=WARN", `msg="accept failed, retrying"`, "tunnel=broken", "listen="+broken, "invalid argument")
	f.expectLog(t, "level=INFO", `msg="accepting again"`, "tunnel=broken")
}

// runFleet runs the fleet's signal loop as serve does; the channel closes
// if it returns. At cleanup a SIGTERM drains it.
func runFleet(t *testing.T, f *testFleet) <-chan struct{} {
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		f.wait()
	}()
	t.Cleanup(func() {
		f.sigs <- syscall.SIGTERM
		select {
		case <-exited:
		case <-time.After(acceptTestWait):
			t.Error("the fleet did not drain after SIGTERM")
		}
	})
	return exited
}

// listenerFD finds this process's listening TCP socket bound to addr by
// walking its descriptors: the fleet does not hand its listeners out.
func listenerFD(t *testing.T, addr string) int {
	t.Helper()
	want := netip.MustParseAddrPort(addr)
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if on, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err != nil || on != 1 {
			continue
		}
		sa, err := syscall.Getsockname(fd)
		if in4, ok := sa.(*syscall.SockaddrInet4); err == nil && ok &&
			netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port)) == want {
			return fd
		}
	}
	t.Fatalf("no listening socket on %s", addr)
	return -1
}

// mendListener binds the shut-down socket to its old address again (the
// shutdown gave back the port the kernel had picked) and listens.
func mendListener(t *testing.T, fd int, addr string) {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		t.Fatalf("bind %s again: %v", addr, err)
	}
	if err := syscall.Listen(fd, syscall.SOMAXCONN); err != nil {
		t.Fatal(err)
	}
}

// waitProbe polls url until it answers code with a body containing want,
// and returns that body.
func waitProbe(t *testing.T, url string, code int, want string) string {
	t.Helper()
	client := &http.Client{Timeout: acceptTestWait}
	var body string
	testwait.Poll(t, acceptTestWait, func() error {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if body = string(b); resp.StatusCode != code || !strings.Contains(body, want) {
			return fmt.Errorf("GET %s: want %d with %q; last answer: %d %s", url, code, want, resp.StatusCode, body)
		}
		return nil
	})
	return body
}

// metricValue reads one series from a Prometheus text exposition.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no series %s in:\n%s", series, text)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// startEchoBackend is an echo backend, closed when the test ends.
func startEchoBackend(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// echoServerTunnel is a server tunnel block in front of target, with a
// fresh certificate for localhost, and the pool that verifies it.
func echoServerTunnel(t *testing.T, name, target string) (string, *x509.CertPool) {
	t.Helper()
	ca, err := pkitest.NewAuthority("accept-test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(pkitest.LeafSpec{CommonName: "localhost", DNSNames: []string{"localhost"}, Server: true})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := pki.WriteKeyPair(t.TempDir(), name, c)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	return fmt.Sprintf("tunnel %q {\n  mode = \"server\"\n  listen = \"127.0.0.1:0\"\n  target = %q\n"+
		"  tls {\n    cert = %q\n    key = %q\n    client_auth = \"none\"\n  }\n}\n", name, target, certFile, keyFile), roots
}

// echoThrough sends msg through the server tunnel at addr and expects it back.
func echoThrough(t *testing.T, addr string, roots *x509.CertPool, msg string) {
	t.Helper()
	d := &net.Dialer{Timeout: acceptTestWait}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(acceptTestWait)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("echo through %s: %v", addr, err)
	}
	if string(got) != msg {
		t.Fatalf("echo through %s: got %q, want %q", addr, got, msg)
	}
}
