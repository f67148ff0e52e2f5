package pki

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// Many tunnels and concurrent callers with one passphrase derive once.
func TestManagerDerivesOnce(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	var calls atomic.Int32
	m.derive = func(p, c string) (*ClusterCA, error) {
		calls.Add(1)
		return cachedDerive(p, c)
	}
	var wg sync.WaitGroup
	cas := make([]*ClusterCA, 8)
	for i := range cas {
		wg.Go(func() {
			ca, err := m.ClusterCA(pass1, "test")
			if err != nil {
				t.Error(err)
			}
			cas[i] = ca
		})
	}
	wg.Wait()
	srv := serverConfig(t, m, ptunnel(config.ModeServer, pass1))
	cli := clientConfig(t, m, ptunnel(config.ModeClient, pass1))
	if n := calls.Load(); n != 1 {
		t.Errorf("derived %d times, want 1", n)
	}
	for _, ca := range cas[1:] {
		if ca != cas[0] {
			t.Fatal("callers got different CAs")
		}
	}
	// Both tunnels present the same node certificate.
	a, err := srv.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cli.GetClientCertificate(&tls.CertificateRequestInfo{})
	if err != nil || a != b {
		t.Errorf("tunnels of one passphrase have different node certificates (%v)", err)
	}
	if _, err := m.ClusterCA(pass1, ""); err != nil || calls.Load() != 2 {
		t.Errorf("default cluster: %v, %d derivations", err, calls.Load())
	}
}

func TestManagerDefaults(t *testing.T) {
	m := NewManager(Options{NodeName: "Web_01.example.com"})
	if m.NodeName() != "web-01" || m.validity != DefaultNodeValidity || m.log == nil || m.now == nil {
		t.Errorf("node %q, validity %v", m.NodeName(), m.validity)
	}
	if NewManager(Options{}).NodeName() == "" {
		t.Error("no default node name")
	}
}

func BenchmarkDerive(b *testing.B) {
	for b.Loop() {
		if _, err := DeriveClusterCA(pass1, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPassphraseHandshake is one full mutual TLS 1.3 handshake with
// Ed25519 node certificates (no resumption), over an in-memory pipe.
func BenchmarkPassphraseHandshake(b *testing.B) {
	m := newTestManager(Options{NodeName: "n"})
	srv, err := m.ServerTLSConfig(ptunnel(config.ModeServer, pass1))
	if err != nil {
		b.Fatal(err)
	}
	cli, err := m.ClientTLSConfig(ptunnel(config.ModeClient, pass1), "")
	if err != nil {
		b.Fatal(err)
	}
	cli.ClientSessionCache = nil
	for b.Loop() {
		c, s := net.Pipe()
		errc := make(chan error, 1)
		go func() { errc <- tls.Server(s, srv).Handshake() }()
		if err := tls.Client(c, cli).Handshake(); err != nil {
			b.Fatal(err)
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		c.Close()
		s.Close()
	}
}
