package pki

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testlog"
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

// A tunnel on the default cluster is warned about once per Manager (one
// per process), however many tunnels use it and however often they are
// built; tunnels on a cluster of their own are not.
func TestDefaultClusterWarnedOnce(t *testing.T) {
	var logs testlog.Buffer
	m := newTestManager(Options{NodeName: "n", Logger: textLogger(&logs)})
	// The warning is about the name, not the CA: the one of cluster "test"
	// spares the test a derivation.
	m.derive = func(p, _ string) (*ClusterCA, error) { return cachedDerive(p, "test") }
	own := ptunnel(config.ModeServer, pass1)
	serverConfig(t, m, own)
	if out := logs.String(); out != "" {
		t.Fatalf("a tunnel on cluster %q logged:\n%s", own.Cluster, out)
	}
	for _, name := range []string{"a", "b", "a"} {
		tun := ptunnel(config.ModeServer, pass1)
		tun.Name, tun.Cluster = name, ""
		serverConfig(t, m, tun)
		tun.Cluster = DefaultCluster // written out, it is the same cluster
		clientConfig(t, m, tun)
	}
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one warning, got:\n%s", out)
	}
	for _, want := range []string{"level=WARN", "default cluster", "salts the passphrase derivation",
		"one precomputed table", "tunnel=a", "cluster=passtunnel", "unique to this deployment", "passtunnel pki passphrase"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("warning %q lacks %q", lines[0], want)
		}
	}
	if strings.Contains(out, pass1) {
		t.Error("the warning contains the passphrase")
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
