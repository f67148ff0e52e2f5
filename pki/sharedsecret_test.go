package pki

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
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

// testKey is a proof key without the stretch, which costs a quarter of a
// second and 64 MiB a secret (TestStretchSharedSecret covers it).
func testKey(secret string) *SharedSecretKey {
	sum := sha256.Sum256([]byte(secret))
	return &SharedSecretKey{key: sum[:]}
}

// somePeer stands for the certificate a handshake's verification accepted.
var somePeer = &x509.Certificate{}

// prove runs both ends at once and returns the server's and client's errors.
func prove(t *testing.T, version uint16, srvSecret, cliSecret string) (srvErr, cliErr error) {
	srv, cli := tlsPair(t, version)
	done := make(chan error, 1)
	go func() { done <- failClosed(srv, ProveSharedSecret(srv, testKey(srvSecret), true, somePeer)) }()
	cliErr = ProveSharedSecret(cli, testKey(cliSecret), false, somePeer)
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
			var r interface{ HandshakeReason() string }
			if !errors.Is(s, ErrSharedSecret) || !errors.As(s, &r) || r.HandshakeReason() != "shared_secret" {
				t.Errorf("server: unequal secrets: %v, want ErrSharedSecret with reason shared_secret", s)
			}
			// The server checked first and sent nothing: the client
			// finds the connection closed instead of a proof.
			if !errors.Is(c, ErrSharedSecretRefused) || !errors.As(c, &r) || r.HandshakeReason() != "shared_secret" {
				t.Errorf("client: unequal secrets: %v, want ErrSharedSecretRefused with reason shared_secret", c)
			}
			for _, err := range []error{s, c} {
				if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), other)) {
					t.Errorf("error shows a secret: %v", err)
				}
			}
		})
	}
}

// failClosed closes c when err is set, as a tunnel ends a connection whose
// exchange failed.
func failClosed(c *tls.Conn, err error) error {
	if err != nil {
		c.Close()
	}
	return err
}

// The client proves first: a server never sends its proof to a client
// that has not proven it holds the secret, so a client without it gets
// nothing to guess the secret against offline, whatever it sends.
func TestSharedSecretServerNeverProvesFirst(t *testing.T) {
	for _, send := range []int{0, 32} { // silence, then a wrong proof
		srv, cli := tlsPair(t, tls.VersionTLS13)
		done := make(chan error, 1)
		go func() { done <- failClosed(srv, ProveSharedSecret(srv, testKey("secret"), true, somePeer)) }()
		if send > 0 {
			if _, err := cli.Write(make([]byte, send)); err != nil {
				t.Fatal(err)
			}
		} else {
			_ = cli.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		}
		n, err := io.ReadFull(cli, make([]byte, 32))
		if n != 0 {
			t.Fatalf("sent %d bytes: the client read %d bytes of a proof (%v)", send, n, err)
		}
		if send == 0 {
			srv.Close() // the deadline of a silent client is the caller's to set
		}
		if err := <-done; err == nil {
			t.Errorf("sent %d bytes: the server accepted", send)
		}
	}
}

// A peer that is not authenticated by a certificate gets no proof at all.
func TestSharedSecretNeedsVerifiedPeer(t *testing.T) {
	srv, cli := tlsPair(t, tls.VersionTLS13)
	go func() { _, _ = srv.Write(make([]byte, 32)) }()
	err := ProveSharedSecret(cli, testKey("secret"), false, nil)
	var r interface{ HandshakeReason() string }
	if err == nil || !errors.As(err, &r) || !strings.Contains(err.Error(), "not authenticated") {
		t.Fatalf("anonymous peer: %v", err)
	}
	_ = srv.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _ := srv.Read(make([]byte, 32)); n != 0 {
		t.Errorf("an anonymous peer got %d bytes", n)
	}
}

// A server without the secret that sends the client's own proof back
// fails: the two directions are bound to different roles.
func TestSharedSecretReflection(t *testing.T) {
	srv, cli := tlsPair(t, tls.VersionTLS13)
	go func() {
		buf := make([]byte, 32)
		if _, err := io.ReadFull(srv, buf); err == nil {
			_, _ = srv.Write(buf)
		}
	}()
	if err := ProveSharedSecret(cli, testKey("secret"), false, somePeer); !errors.Is(err, ErrSharedSecret) {
		t.Fatalf("reflected proof: %v, want ErrSharedSecret", err)
	}
}

// A proof recorded on one session is refused on another: the exporter,
// and so the proof, differs per session.
func TestSharedSecretIsChannelBound(t *testing.T) {
	key := testKey("secret")
	_, cli1 := tlsPair(t, tls.VersionTLS13)
	cs := cli1.ConnectionState()
	ekm1, err := cs.ExportKeyingMaterial(sharedSecretLabel, nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	recorded := sharedSecretProof(key, ekm1, roleClient) // what an honest client sent on session 1
	srv2, cli2 := tlsPair(t, tls.VersionTLS13)
	go func() { _, _ = cli2.Write(recorded) }()
	if err := ProveSharedSecret(srv2, key, true, somePeer); !errors.Is(err, ErrSharedSecret) {
		t.Fatalf("proof from another session: %v, want ErrSharedSecret", err)
	}
}

func TestSharedSecretPeerGone(t *testing.T) {
	srv, cli := tlsPair(t, tls.VersionTLS13)
	cli.Close()
	err := ProveSharedSecret(srv, testKey("secret"), true, somePeer)
	if err == nil || errors.Is(err, ErrSharedSecret) || !strings.Contains(err.Error(), "shared secret:") {
		t.Fatalf("peer gone: %v, want a transport error, not a mismatch", err)
	}
}

// The stretch is Argon2id, salted by the cluster: the same secret gives
// the same key in one cluster and another in the next.
func TestStretchSharedSecret(t *testing.T) {
	const secret = "a shared secret of some length"
	a, err := StretchSharedSecret(secret, "prod")
	if err != nil {
		t.Fatal(err)
	}
	want := argon2.IDKey([]byte(secret), []byte("passtunnel/v1/shared-secret/prod"), 3, 64*1024, 4, 32)
	if !bytes.Equal(a.key, want) {
		t.Error("the key is not Argon2id(secret, passtunnel/v1/shared-secret/<cluster>)")
	}
	if _, err := StretchSharedSecret("", "prod"); err == nil {
		t.Error("an empty secret was stretched")
	}
}
