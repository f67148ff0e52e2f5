package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tlsPair is one real TLS connection over loopback TCP, both ends
// handshaken, with deadlines so that no test can hang.
func tlsPair(t *testing.T, version uint16) (srv, cli *tls.Conn) {
	t.Helper()
	ca := newTestCA(t, "secret-ca")
	cert, err := ca.Issue(serverSpec())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	deadline := time.Now().Add(handshakeTimeout)
	accepted := make(chan *tls.Conn, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		_ = raw.SetDeadline(deadline)
		c := tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version})
		if c.Handshake() != nil {
			c.Close()
			c = nil
		}
		accepted <- c
	}()
	raw, err := net.DialTimeout("tcp", ln.Addr().String(), handshakeTimeout)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(deadline)
	cli = tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "db.internal", MinVersion: version, MaxVersion: version})
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if srv = <-accepted; srv == nil {
		t.Fatal("server handshake failed")
	}
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return srv, cli
}

// prove runs both ends at once and returns the server's and client's errors.
func prove(t *testing.T, version uint16, srvSecret, cliSecret string) (srvErr, cliErr error) {
	srv, cli := tlsPair(t, version)
	done := make(chan error, 1)
	go func() { done <- ProveSharedSecret(srv, []byte(srvSecret), true) }()
	cliErr = ProveSharedSecret(cli, []byte(cliSecret), false)
	return <-done, cliErr
}

func TestSharedSecret(t *testing.T) {
	const secret, other = "tunnel secret one", "tunnel secret two"
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			if s, c := prove(t, v, secret, secret); s != nil || c != nil {
				t.Fatalf("equal secrets refused: server %v, client %v", s, c)
			}
			s, c := prove(t, v, secret, other)
			for side, err := range map[string]error{"server": s, "client": c} {
				var r interface{ HandshakeReason() string }
				if !errors.Is(err, ErrSharedSecret) || !errors.As(err, &r) || r.HandshakeReason() != "shared_secret" {
					t.Errorf("%s: unequal secrets: %v, want ErrSharedSecret with reason shared_secret", side, err)
				}
				if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), other)) {
					t.Errorf("%s: error shows a secret: %v", side, err)
				}
			}
		})
	}
}

// A peer without the secret that sends our own proof back fails: the two
// directions are bound to different roles.
func TestSharedSecretReflection(t *testing.T) {
	srv, cli := tlsPair(t, tls.VersionTLS13)
	go func() {
		buf := make([]byte, 32)
		if _, err := io.ReadFull(cli, buf); err == nil {
			_, _ = cli.Write(buf)
		}
	}()
	if err := ProveSharedSecret(srv, []byte("secret"), true); !errors.Is(err, ErrSharedSecret) {
		t.Fatalf("reflected proof: %v, want ErrSharedSecret", err)
	}
}

// A proof recorded on one session is refused on another: the exporter,
// and so the proof, differs per session.
func TestSharedSecretIsChannelBound(t *testing.T) {
	secret := []byte("secret")
	_, cli1 := tlsPair(t, tls.VersionTLS13)
	cs := cli1.ConnectionState()
	ekm1, err := cs.ExportKeyingMaterial(sharedSecretLabel, nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	recorded := sharedSecretProof(secret, ekm1, roleClient) // what an honest client sent on session 1
	srv2, cli2 := tlsPair(t, tls.VersionTLS13)
	go func() {
		buf := make([]byte, 32)
		if _, err := io.ReadFull(cli2, buf); err == nil {
			_, _ = cli2.Write(recorded)
		}
	}()
	if err := ProveSharedSecret(srv2, secret, true); !errors.Is(err, ErrSharedSecret) {
		t.Fatalf("proof from another session: %v, want ErrSharedSecret", err)
	}
}

func TestSharedSecretPeerGone(t *testing.T) {
	srv, cli := tlsPair(t, tls.VersionTLS13)
	cli.Close()
	err := ProveSharedSecret(srv, []byte("secret"), true)
	if err == nil || errors.Is(err, ErrSharedSecret) || !strings.Contains(err.Error(), "shared secret:") {
		t.Fatalf("peer gone: %v, want a transport error, not a mismatch", err)
	}
}
