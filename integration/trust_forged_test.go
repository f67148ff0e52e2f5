package integration

import (
	"bufio"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto/tlvparse"
)

// An attacker who holds any certificate of the cluster (one `pki issue`
// made, or a node's) puts first a self-signed certificate for the same key
// claiming another node's name, then its real one: the real one is what a
// cluster CA signed, the first is what a careless reader takes for the
// peer. These tests are that attack against the built binary.

// forgedChain is [self-signed for id's key claiming CN=cn, id's real
// certificate], and id's key.
func forgedChain(t *testing.T, id issued, cn string) tls.Certificate {
	t.Helper()
	real := id.pair(t)
	signer := real.PrivateKey.(crypto.Signer)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{Organization: []string{"passtunnel"}, OrganizationalUnit: []string{"passtunnel"}, CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{cn + ".passtunnel.passtunnel.internal"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, real.Certificate[0]}, PrivateKey: real.PrivateKey}
}

// TestForgedChainAgainstServerTunnel: the forged chain gets past neither
// allow { cn = ["db-1"] } nor a server tunnel without allow, whose
// backend must never read SSL_CN = db-1 with verify = 0. The attacker's
// real certificate alone gets in where allow admits it, named by its own
// CN.
func TestForgedChainAgainstServerTunnel(t *testing.T) {
	passphraseTest(t)
	_, pf := passFile(t)
	be, headers := headerBackend(t)
	pp := "  proxy_protocol {\n    send = \"v2\"\n    tls_tlvs = true\n  }\n"
	srv := startPassRun(t, nil,
		ptun{name: "db", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf,
			extra: "  allow { cn = [\"db-1\"] }\n" + pp},
		ptun{name: "open", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf, extra: pp})
	evil := pkiIssue(t, pf, "evil")
	forged := forgedChain(t, evil, "db-1")
	attacker := func(cert tls.Certificate) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
	}
	for _, tunnel := range []string{"db", "open"} {
		c := dialTLS(t, srv.listenAddr(t, tunnel), attacker(forged))
		_, _ = io.WriteString(c, "as db-1\n")
		expectClosed(t, c, ioTimeout)
		e := srv.mustLog(t, ioTimeout, "handshake failed of "+tunnel, logMatch("handshake failed", "tunnel", tunnel))
		wantError(t, e, "not a node chain of this cluster")
	}
	// The real certificate alone: refused by allow, let in without it,
	// and named by what the cluster CA signed.
	c := dialTLS(t, srv.listenAddr(t, "db"), attacker(evil.pair(t)))
	expectClosed(t, c, ioTimeout)
	c = dialTLS(t, srv.listenAddr(t, "open"), attacker(evil.pair(t)))
	r := bufio.NewReader(c)
	roundTrip(t, c, r, "as evil", "as evil")
	h := nextHeader(t, headers)
	tlvs, err := h.TLVs()
	if err != nil {
		t.Fatal(err)
	}
	ssl, ok := tlvparse.FindSSL(tlvs)
	cn, _ := ssl.ClientCN()
	if !ok || !ssl.Verified() || cn != "evil" {
		t.Fatalf("PROXY TLVs: verified %v, SSL_CN %q; want the verified CN evil", ssl.Verified(), cn)
	}
	select {
	case h := <-headers:
		t.Fatalf("the backend got another connection, from %v", h.SourceAddr)
	default:
	}
	c.Close()
	closed := srv.mustLog(t, ioTimeout, "connection closed of open", logMatch("connection closed", "tunnel", "open"))
	if subj := closed.str("peer_subject"); !strings.Contains(subj, "CN=evil") {
		t.Errorf("peer_subject %q, want the verified CN=evil", subj)
	}
}

// TestForgedChainAgainstClientTunnel: a server that shows the forged chain
// to a client tunnel with allow { cn = ["db-1"] } must not be taken for
// db-1: the client tunnel refuses it and the application's bytes never
// reach it.
func TestForgedChainAgainstClientTunnel(t *testing.T) {
	passphraseTest(t)
	_, pf := passFile(t)
	evil := pkiIssue(t, pf, "evil")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	stolen := make(chan string, 4)
	go impersonate(ln, forgedChain(t, evil, "db-1"), stolen)
	cli := startPassRun(t, nil, ptun{name: "app", mode: "client", listen: "127.0.0.1:0", target: ln.Addr().String(),
		passphrase: pf, extra: "  allow { cn = [\"db-1\"] }\n"})
	e := refusedThrough(t, cli, "app")
	wantError(t, e, "not a node chain of this cluster")
	select {
	case got := <-stolen:
		t.Fatalf("the impersonating server read %q", got)
	default:
	}
}

// impersonate serves ln as a node would, with cert, and reports every
// application byte a client tunnel sends it.
func impersonate(ln net.Listener, cert tls.Certificate, stolen chan<- string) {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert}
	for {
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer raw.Close()
			_ = raw.SetDeadline(time.Now().Add(ioTimeout))
			buf, err := io.ReadAll(tls.Server(raw, cfg))
			if len(buf) > 0 {
				stolen <- string(buf)
			}
			_ = err
		}()
	}
}
