package pki

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// handshakeTimeout bounds every wait of a test handshake.
const handshakeTimeout = 10 * time.Second

// testCA is an authority plus its certificate written as a ca file.
type testCA struct {
	*pkitest.Authority
	file string
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	a, err := pkitest.NewAuthority(name)
	if err != nil {
		t.Fatalf("NewAuthority: %v", err)
	}
	return testCA{Authority: a, file: writeFile(t, name+"-ca.crt", a.CertPEM())}
}

// issueFiles issues a leaf and writes it as name.crt / name.key.
func (ca testCA) issueFiles(t *testing.T, name string, spec pkitest.LeafSpec) (certFile, keyFile string) {
	t.Helper()
	cert, err := ca.Issue(spec)
	if err != nil {
		t.Fatalf("Issue %s: %v", name, err)
	}
	certFile, keyFile, err = WriteKeyPair(t.TempDir(), name, cert)
	if err != nil {
		t.Fatalf("WriteKeyPair %s: %v", name, err)
	}
	return certFile, keyFile
}

func serverSpec() pkitest.LeafSpec {
	return pkitest.LeafSpec{CommonName: "server", DNSNames: []string{"db.internal"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true}
}

func clientSpec(cn string) pkitest.LeafSpec { return pkitest.LeafSpec{CommonName: cn, Client: true} }

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tunnel wraps a tls block the way config would, with positions so that
// error messages can be checked exactly.
func tunnel(mode config.Mode, c *config.TLS) *config.Tunnel {
	return &config.Tunnel{
		Name: "redis",
		Pos:  config.Pos{File: "bad.hcl", Line: 3, Column: 1},
		Fields: map[string]config.Pos{
			"tls.cert": {File: "bad.hcl", Line: 7, Column: 5},
			"tls.key":  {File: "bad.hcl", Line: 8, Column: 5},
			"tls.ca":   {File: "bad.hcl", Line: 9, Column: 5},
		},
		Mode: mode,
		TLS:  c,
	}
}

func mustServer(t *testing.T, c *config.TLS) *tls.Config {
	t.Helper()
	return mustServerEndpoint(t, c).Config
}

func mustClient(t *testing.T, c *config.TLS, targetHost string) *tls.Config {
	t.Helper()
	return mustClientEndpoint(t, c, targetHost).Config
}

func mustServerEndpoint(t *testing.T, c *config.TLS) *Endpoint {
	t.Helper()
	e, err := ServerEndpoint(tunnel(config.ModeServer, c))
	if err != nil {
		t.Fatalf("ServerEndpoint: %v", err)
	}
	return e
}

func mustClientEndpoint(t *testing.T, c *config.TLS, targetHost string) *Endpoint {
	t.Helper()
	e, err := ClientEndpoint(tunnel(config.ModeClient, c), targetHost)
	if err != nil {
		t.Fatalf("ClientEndpoint: %v", err)
	}
	return e
}

// peerCN is the CN of the peer e's verdict accepts for cs, "" for none.
func peerCN(t *testing.T, e *Endpoint, cs tls.ConnectionState) string {
	t.Helper()
	peer, err := e.Peer(cs)
	if err != nil {
		t.Fatalf("verdict: %v", err)
	}
	if peer == nil {
		return ""
	}
	return peer.Subject.CommonName
}

type result struct {
	server, client       tls.ConnectionState
	serverErr, clientErr error
}

// ok reports whether both ends completed the handshake and the client read
// the server's first bytes: in TLS 1.3 a client only learns that the server
// refused its certificate when it reads.
func (r result) ok() bool { return r.serverErr == nil && r.clientErr == nil }

// handshake runs one real TLS handshake over loopback TCP.
// boundedListener listens on loopback for a test's handshakes. The
// context, and accepting, end after handshakeTimeout; done closes both.
func boundedListener(t *testing.T) (net.Listener, context.Context, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	deadline, _ := ctx.Deadline()
	if err := ln.(*net.TCPListener).SetDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	return ln, ctx, func() { cancel(); ln.Close() }
}

func handshake(t *testing.T, srv, cli *tls.Config) result {
	t.Helper()
	ln, ctx, stop := boundedListener(t)
	defer stop()
	var r result
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.server, r.serverErr = serveOnce(ctx, ln, srv)
	}()
	r.client, r.clientErr = dialOnce(ctx, ln.Addr().String(), cli)
	<-done // bounded: the listener and the connection carry the deadline
	return r
}

func serveOnce(ctx context.Context, ln net.Listener, cfg *tls.Config) (tls.ConnectionState, error) {
	raw, err := ln.Accept()
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer raw.Close()
	deadline, _ := ctx.Deadline()
	if err := raw.SetDeadline(deadline); err != nil {
		return tls.ConnectionState{}, err
	}
	conn := tls.Server(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		return tls.ConnectionState{}, err
	}
	_, err = conn.Write([]byte("ok"))
	return conn.ConnectionState(), err
}

func dialOnce(ctx context.Context, addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := tls.Dialer{Config: ForHandshake(cfg)} // as a client tunnel dials
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		return tls.ConnectionState{}, err
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		return tls.ConnectionState{}, err
	}
	return c.(*tls.Conn).ConnectionState(), nil
}

// presentedCertificate is the certificate cfg presents at a handshake now,
// as crypto/tls would ask for it (nil if none).
func presentedCertificate(cfg *tls.Config) (*tls.Certificate, error) {
	switch {
	case cfg.GetCertificate != nil:
		return cfg.GetCertificate(&tls.ClientHelloInfo{})
	case cfg.GetClientCertificate != nil:
		return cfg.GetClientCertificate(&tls.CertificateRequestInfo{})
	case len(cfg.Certificates) > 0:
		return &cfg.Certificates[0], nil
	}
	return nil, nil
}
