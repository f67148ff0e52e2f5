package integration

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// acmeDomain resolves to 127.0.0.1 through the test's DNS server only.
const acmeDomain = "edge.passtunnel.test"

// acmeTimeout bounds getting a certificate from the in-process Pebble,
// which takes about a second.
const acmeTimeout = 30 * time.Second

func acmeConfig(f *fixture, p *pebble, target, storage string) string {
	return fmt.Sprintf(`log_level  = "debug"
log_format = "json"

tunnel "edge" {
  mode   = "server"
  listen = "127.0.0.1:0"
  target = %q
  tls { ca = %q }   # client certificates required, from CA A
  acme {
    domains       = [%q]
    email         = "ops@passtunnel.test"
    ca            = %q
    storage       = %q
    trusted_roots = %q
  }
}
`, target, f.caA, acmeDomain, p.directory, storage, p.rootsFile)
}

// TestACMEWithClientAuth: a server tunnel that requires client
// certificates gets its own certificate from an ACME CA (Pebble), which
// validates the domain with TLS-ALPN-01 on the tunnel's listener without a
// client certificate; clients then see the certificate Pebble issued, and
// a restart serves it from storage.
func TestACMEWithClientAuth(t *testing.T) {
	f := newFixture(t)
	be := startEcho(t)
	p := newPebble(t)
	storage := filepath.Join(t.TempDir(), "acme")
	config := acmeConfig(f, p, be.addr, storage)
	pt := runConfigText(t, config, nil)
	addr := pt.listenAddr(t, "edge")
	p.start(addr)

	pt.mustLog(t, acmeTimeout, "acme certificate obtained",
		logMatch("acme certificate obtained", "tunnel", "edge", "domain", acmeDomain))
	// Obtained is logged as it is stored; in use once handshakes get it.
	pt.mustLog(t, ioTimeout, "acme certificate in use", logMatch("acme certificate in use", "tunnel", "edge"))
	// The CA's validation connections ended at the handshake: none was
	// carried to the target, as they carry no client certificate.
	pt.mustLog(t, ioTimeout, "an acme_challenge close",
		logMatch("connection closed", "tunnel", "edge", "reason", "acme_challenge"))

	leaf := acmeEcho(t, addr, p, f)
	t.Run("client without a certificate refused", func(t *testing.T) {
		acmeRefused(t, addr, p, &tls.Config{})
	})
	t.Run("acme-tls/1 without a pending challenge refused", func(t *testing.T) {
		// Only a CA's challenge goes without client authentication, and
		// only while one is pending: otherwise this handshake fails.
		acmeRefused(t, addr, p, &tls.Config{NextProtos: []string{"acme-tls/1"}})
	})

	t.Run("restart serves the stored certificate", func(t *testing.T) {
		pt.kill()
		if _, ok := pt.waitExit(startTimeout); !ok {
			t.Fatal("first passtunnel did not exit")
		}
		again := runConfigText(t, config, nil)
		addr2 := again.listenAddr(t, "edge")
		again.mustLog(t, acmeTimeout, "acme certificate in use",
			logMatch("acme certificate in use", "tunnel", "edge"))
		if got := acmeEcho(t, addr2, p, f); !bytes.Equal(got.Raw, leaf.Raw) {
			t.Errorf("after restart the tunnel serves %s, not the stored %s", got.SerialNumber, leaf.SerialNumber)
		}
		if n := len(again.logs(logMatch("acme certificate obtained"))); n != 0 {
			t.Errorf("restart obtained %d new certificates; want the stored one", n)
		}
	})
}

// acmeEcho echoes a line through the tunnel as a client with a certificate
// of CA A that trusts only Pebble's root, and returns the tunnel's leaf.
func acmeEcho(t *testing.T, addr string, p *pebble, f *fixture) *x509.Certificate {
	t.Helper()
	c := dialTLS(t, addr, &tls.Config{
		RootCAs:      p.roots(),
		ServerName:   acmeDomain,
		Certificates: []tls.Certificate{f.client.tls},
		MinVersion:   tls.VersionTLS12,
	})
	cs := c.ConnectionState()
	leaf := cs.PeerCertificates[0]
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != acmeDomain {
		t.Errorf("tunnel certificate names %v, want [%s]", leaf.DNSNames, acmeDomain)
	}
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) < 2 {
		t.Fatalf("no chain to Pebble's root: %v", cs.VerifiedChains)
	}
	roundTrip(t, c, bufio.NewReader(c), "hello over an acme certificate", "hello over an acme certificate")
	return leaf
}

// acmeRefused expects a handshake from cfg (plus Pebble's trust) to fail,
// at the latest on the first read, with no byte from the target.
func acmeRefused(t *testing.T, addr string, p *pebble, cfg *tls.Config) {
	t.Helper()
	cfg.RootCAs, cfg.ServerName, cfg.MinVersion = p.roots(), acmeDomain, tls.VersionTLS12
	cfg.InsecureSkipVerify = len(cfg.NextProtos) > 0 // a challenge cert would not verify: see what comes
	raw, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(ioTimeout))
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		return // refused during the handshake
	}
	_, _ = io.WriteString(c, "must not arrive\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil {
		t.Fatalf("connection carried to the target (got %q); negotiated %q", line, c.ConnectionState().NegotiatedProtocol)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("connection neither refused nor answered within %v", ioTimeout)
	}
}
