package pki

import (
	"crypto/tls"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// The source table picks each kind of identity in the order of its
// entries, in both modes: a client tunnel with tls.self_signed is built
// from its files, as before the table.
func TestSourceChosenPerTunnel(t *testing.T) {
	m := newTestManager(Options{StateDir: t.TempDir()})
	t.Cleanup(m.Close)
	ca := newTestCA(t, "table")
	cert, key := ca.issueFiles(t, "server", serverSpec())
	selfClient := tunnel(config.ModeClient, &config.TLS{CA: ca.file, SelfSigned: true})
	for _, tc := range []struct {
		name  string
		build func() (*Endpoint, error)
		want  string
	}{
		{"acme", func() (*Endpoint, error) { return m.Server(acmeTunnel(t, ca)) }, "*pki.acmeSource"},
		{"self-signed", func() (*Endpoint, error) { return m.Server(selfSignedTunnel("web")) }, "pki.selfSignedSource"},
		{"self-signed client", func() (*Endpoint, error) { return m.Client(selfClient, "db.internal") }, "pki.selfSignedSource"},
		{"passphrase", func() (*Endpoint, error) { return m.Server(ptunnel(config.ModeServer, pass1)) }, "*pki.passphraseSource"},
		{"files", func() (*Endpoint, error) { return m.Server(serverTunnel(cert, key, ca.file)) }, "*pki.filesSource"},
	} {
		e, err := tc.build()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := typeName(e.src); got != tc.want {
			t.Errorf("%s: source %s, want %s", tc.name, got, tc.want)
		}
		e.Release()
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// Release is idempotent: a second call must not take another reference
// away from an ACME state or a file shared with another endpoint.
func TestEndpointReleaseTwice(t *testing.T) {
	m, _ := reloadManager(t, time.Hour, true)
	ca := newTestCA(t, "twice")
	cert, key := ca.issueFiles(t, "server", serverSpec())
	tun := serverTunnel(cert, key, ca.file)
	first, err := m.Server(tun)
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.Server(tun)
	if err != nil {
		t.Fatal(err)
	}
	first.Release()
	first.Release()
	if _, n := watched(m); n != 2 {
		t.Errorf("%d sources followed after releasing one endpoint twice, want 2 (the other's)", n)
	}
	second.Release()
	if _, n := watched(m); n != 0 {
		t.Errorf("%d sources followed after releasing both, want none", n)
	}

	a1, err := m.Server(acmeTunnel(t, ca))
	if err != nil {
		t.Fatal(err)
	}
	a1.Release()
	a1.Release()
	m.mu.Lock()
	left := len(m.acme.states)
	m.mu.Unlock()
	if left != 0 {
		t.Errorf("%d ACME states left after Release", left)
	}
	var none *Endpoint
	none.Release() // a tunnel that failed to build has none
	if exp, err := none.Expiry(); err != nil || !exp.IsZero() {
		t.Errorf("nil endpoint: Expiry = %v, %v", exp, err)
	}
}

// A server endpoint's verdict on an acme-tls/1 handshake is
// ChallengeAnswered, whatever its identity (as the tunnel always closed
// such connections): the caller closes them instead of carrying them to
// the target.
func TestEndpointAnswered(t *testing.T) {
	m := NewManager(Options{})
	t.Cleanup(m.Close)
	ca := newTestCA(t, "answered")
	acme, err := m.Server(acmeTunnel(t, ca))
	if err != nil {
		t.Fatal(err)
	}
	cert, key := ca.issueFiles(t, "server", serverSpec())
	files, err := m.Server(serverTunnel(cert, key, ca.file))
	if err != nil {
		t.Fatal(err)
	}
	challenge := tls.ConnectionState{NegotiatedProtocol: "acme-tls/1"}
	for name, e := range map[string]*Endpoint{"acme": acme, "files": files} {
		if _, err := e.Peer(challenge); !errors.As(err, new(ChallengeAnswered)) {
			t.Errorf("%s endpoint: the verdict on an acme-tls/1 handshake is %v, want ChallengeAnswered", name, err)
		}
	}
	if _, err := files.Peer(tls.ConnectionState{NegotiatedProtocol: "h2"}); errors.As(err, new(ChallengeAnswered)) {
		t.Error("file endpoint: an ordinary handshake was taken for an ACME validation")
	}
}
