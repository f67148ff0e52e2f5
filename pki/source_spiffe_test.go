package pki

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/internal/spiffetest"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// spiffeTunnel is a tunnel whose identity is the Workload API at addr.
func spiffeTunnel(mode config.Mode, addr string, allowURI ...string) *config.Tunnel {
	return &config.Tunnel{
		Name:   "mesh",
		Pos:    config.Pos{File: "s.hcl", Line: 1, Column: 1},
		Fields: map[string]config.Pos{"spiffe.socket": {File: "s.hcl", Line: 5, Column: 5}},
		Mode:   mode,
		SPIFFE: &config.SPIFFE{Socket: addr},
		Allow:  config.Allow{URI: allowURI},
	}
}

// spiffeMesh is a trust domain with an agent for a server and one for a
// client workload, each serving its SVID.
type spiffeMesh struct {
	ca          *pkitest.Authority
	server, cli *spiffetest.Server
	serverID    spiffetest.SVID
	clientID    spiffetest.SVID
}

func newSPIFFEMesh(t *testing.T) spiffeMesh {
	ca, err := pkitest.NewAuthority("example.org")
	if err != nil {
		t.Fatal(err)
	}
	m := spiffeMesh{ca: ca, server: spiffetest.Start(t), cli: spiffetest.Start(t),
		serverID: spiffetest.NewSVID(t, ca, "spiffe://example.org/server"),
		clientID: spiffetest.NewSVID(t, ca, "spiffe://example.org/client")}
	m.server.Push(t, m.serverID, ca.Cert)
	m.cli.Push(t, m.clientID, ca.Cert)
	return m
}

// mustEndpoint builds a server endpoint (targetHost "") or a client one.
func mustEndpoint(t *testing.T, m *Manager, tun *config.Tunnel, targetHost string) *Endpoint {
	t.Helper()
	build := func() (*Endpoint, error) { return m.Client(tun, targetHost) }
	if tun.Mode == config.ModeServer {
		build = func() (*Endpoint, error) { return m.Server(tun) }
	}
	e, err := build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Release)
	return e
}

func TestSPIFFEHandshakeAllowAndRotation(t *testing.T) {
	mesh := newSPIFFEMesh(t)
	m := newTestManager(Options{})
	srv := mustEndpoint(t, m, spiffeTunnel(config.ModeServer, mesh.server.Addr, "spiffe://example.org/client"), "")
	cli := mustEndpoint(t, m, spiffeTunnel(config.ModeClient, mesh.cli.Addr), "127.0.0.1")

	r := handshake(t, srv.Config, cli.Config)
	if !r.ok() {
		t.Fatalf("handshake: server %v, client %v", r.serverErr, r.clientErr)
	}
	peer, err := srv.Peer(r.server)
	if err != nil || peer.URIs[0].String() != "spiffe://example.org/client" {
		t.Fatalf("server's peer %v, %v", peer, err)
	}
	if mesh.server.Refused.Load() != 0 || mesh.cli.Refused.Load() != 0 {
		t.Error("go-spiffe's requests lacked the security header")
	}

	// Rotation: both agents push new SVIDs; the next handshakes present them.
	newServer := spiffetest.NewSVID(t, mesh.ca, "spiffe://example.org/server")
	newClient := spiffetest.NewSVID(t, mesh.ca, "spiffe://example.org/client")
	mesh.server.Push(t, newServer, mesh.ca.Cert)
	mesh.cli.Push(t, newClient, mesh.ca.Cert)
	testwait.Until(t, 10*time.Second, "the rotated SVIDs are presented", func() bool {
		r := handshake(t, srv.Config, cli.Config)
		return r.ok() && r.client.PeerCertificates[0].Equal(newServer.Cert.Leaf) &&
			r.server.PeerCertificates[0].Equal(newClient.Cert.Leaf)
	})
	exp, err := cli.Expiry()
	if err != nil || !exp.Equal(newClient.Cert.Leaf.NotAfter) {
		t.Errorf("client Expiry = %v, %v; want the rotated SVID's %v", exp, err, newClient.Cert.Leaf.NotAfter)
	}

	// Another workload of the trust domain is verified, then refused by allow.
	other := spiffetest.Start(t)
	other.Push(t, spiffetest.NewSVID(t, mesh.ca, "spiffe://example.org/intruder"), mesh.ca.Cert)
	intruder := mustEndpoint(t, m, spiffeTunnel(config.ModeClient, other.Addr), "127.0.0.1")
	r = handshake(t, srv.Config, intruder.Config)
	if r.ok() || r.serverErr == nil || !strings.Contains(r.serverErr.Error(), `URI=["spiffe://example.org/intruder"] is not allowed by allow { }`) {
		t.Errorf("intruder: server %v, client %v", r.serverErr, r.clientErr)
	}
}

// A workload of another trust domain, whose CA the agent does not bundle,
// is refused by the chain check; so is a certificate of the right CA
// without a SPIFFE ID.
func TestSPIFFERefusesForeignPeers(t *testing.T) {
	mesh := newSPIFFEMesh(t)
	m := newTestManager(Options{})
	srv := mustEndpoint(t, m, spiffeTunnel(config.ModeServer, mesh.server.Addr), "")

	evil, err := pkitest.NewAuthority("evil.org")
	if err != nil {
		t.Fatal(err)
	}
	foreign := spiffetest.Start(t)
	// The evil agent bundles both CAs, so the client itself is content.
	foreign.Push(t, spiffetest.NewSVID(t, evil, "spiffe://example.org/client"), evil.Cert, mesh.ca.Cert)
	cli := mustEndpoint(t, m, spiffeTunnel(config.ModeClient, foreign.Addr), "127.0.0.1")
	r := handshake(t, srv.Config, cli.Config)
	if r.ok() || r.serverErr == nil || !strings.Contains(r.serverErr.Error(), "certificate signed by unknown authority") {
		t.Errorf("SVID of a foreign CA: server %v, client %v", r.serverErr, r.clientErr)
	}

	noID, err := mesh.ca.Issue(pkitest.LeafSpec{CommonName: "client", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	check := srv.verify.chain
	if _, err := check([]*x509.Certificate{noID.Leaf}); err == nil || !strings.Contains(err.Error(), "URI SAN") {
		t.Errorf("certificate without a SPIFFE ID: %v", err)
	}
}

// An agent that is not there yet leaves the endpoint built but not ready,
// with an error naming the socket; it becomes ready when the agent comes.
func TestSPIFFEStartsNotReadyUntilTheAgentAnswers(t *testing.T) {
	dir, err := os.MkdirTemp("", "spiffe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "agent.sock")
	m := newTestManager(Options{})
	e := mustEndpoint(t, m, spiffeTunnel(config.ModeServer, "unix://"+path), "")
	if _, err := e.Expiry(); err == nil || !strings.Contains(err.Error(), "unix://"+path) {
		t.Fatalf("Expiry without an agent: %v; want an error naming the socket", err)
	}
	ca, err := pkitest.NewAuthority("example.org")
	if err != nil {
		t.Fatal(err)
	}
	agent := spiffetest.At(t, path)
	svid := spiffetest.NewSVID(t, ca, "spiffe://example.org/server")
	agent.Push(t, svid, ca.Cert)
	testwait.Until(t, 20*time.Second, "the endpoint is ready", func() bool {
		exp, err := e.Expiry()
		return err == nil && exp.Equal(svid.Cert.Leaf.NotAfter)
	})
}

func TestSPIFFESocketErrors(t *testing.T) {
	m := newTestManager(Options{})
	t.Setenv("SPIFFE_ENDPOINT_SOCKET", "")
	_, err := m.Server(spiffeTunnel(config.ModeServer, ""))
	if err == nil || err.Error() != `s.hcl:5:5: tunnel "mesh": spiffe.socket: not set, and neither is $SPIFFE_ENDPOINT_SOCKET` {
		t.Errorf("no socket: %v", err)
	}
	_, err = m.Server(spiffeTunnel(config.ModeServer, "http://agent"))
	if err == nil || !strings.HasPrefix(err.Error(), `s.hcl:5:5: tunnel "mesh": spiffe.socket: "http://agent": `) {
		t.Errorf("bad socket: %v", err)
	}
}
