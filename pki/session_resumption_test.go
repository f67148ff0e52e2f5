package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// resumeOff sets tls.session_resumption on c as the test case wants it:
// off is session_resumption = false.
func resumeOff(c *config.TLS, off bool) *config.TLS {
	c.SessionResumptionDisabled = off
	return c
}

// resumeServerKind is one identity a server tunnel can have, and a plain
// Go client that it accepts. Every client names a server: a session cache
// is keyed by the server name, else by the address, and each test
// handshake listens on a new port.
type resumeServerKind struct {
	name   string
	server func(t *testing.T, off bool) *tls.Config
	client func(t *testing.T) *tls.Config // without a session cache
}

func resumeServerKinds(t *testing.T) []resumeServerKind {
	ca := newTestCA(t, "resume CA")
	cert, key := ca.issueFiles(t, "server", serverSpec())
	cli, err := ca.Issue(clientSpec("client"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	fileClient := func(*testing.T) *tls.Config {
		return &tls.Config{RootCAs: roots, ServerName: "db.internal", Certificates: []tls.Certificate{cli}}
	}
	node, err := derivedCA(t, pass1, "test").IssueNode("c", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Options{StateDir: t.TempDir()})
	t.Cleanup(m.Close)
	pm := newTestManager(Options{NodeName: "s"})
	return []resumeServerKind{
		{"files", func(t *testing.T, off bool) *tls.Config {
			tun := serverTunnel(cert, key, ca.file)
			resumeOff(tun.TLS, off)
			return serverConfig(t, m, tun)
		}, fileClient},
		{"files without a Manager", func(t *testing.T, off bool) *tls.Config {
			return mustServer(t, resumeOff(&config.TLS{Cert: cert, Key: key, CA: ca.file}, off))
		}, fileClient},
		{"self-signed", func(t *testing.T, off bool) *tls.Config {
			return serverConfig(t, m, &config.Tunnel{Name: "ss", Mode: config.ModeServer,
				TLS: resumeOff(&config.TLS{SelfSigned: true, CA: ca.file, ClientAuth: "require"}, off)})
		}, func(*testing.T) *tls.Config {
			return &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", Certificates: []tls.Certificate{cli}}
		}},
		{"passphrase", func(t *testing.T, off bool) *tls.Config {
			tun := ptunnel(config.ModeServer, pass1)
			tun.TLS = resumeOff(&config.TLS{MinVersion: "1.2"}, off)
			return serverConfig(t, pm, tun)
		}, func(*testing.T) *tls.Config {
			return &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", Certificates: []tls.Certificate{node}}
		}},
	}
}

// TestServerSessionResumptionOff: a server tunnel of every identity
// resumes a Go client that keeps a session cache, unless
// session_resumption = false: then the second connection is a full
// handshake too, in TLS 1.2 (tickets) and 1.3 (PSK) alike. A passphrase
// tunnel never resumes TLS 1.2.
func TestServerSessionResumptionOff(t *testing.T) {
	for _, k := range resumeServerKinds(t) {
		for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			for _, off := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/session_resumption=%v", k.name, tls.VersionName(version), !off)
				t.Run(name, func(t *testing.T) {
					srv := k.server(t, off)
					cli := k.client(t)
					cli.MinVersion, cli.MaxVersion = version, version
					cli.ClientSessionCache = tls.NewLRUClientSessionCache(4)
					// A passphrase tunnel never resumes TLS 1.2 (see resumeGuard.noTLS12).
					expectResumption(t, srv, cli, !off && (k.name != "passphrase" || version == tls.VersionTLS13))
				})
			}
		}
	}
}

// expectResumption makes two connections from cli to srv and checks that
// the second one resumed the first's session exactly when want says so,
// as both ends see it.
func expectResumption(t *testing.T, srv, cli *tls.Config, want bool) {
	t.Helper()
	if r := handshake(t, srv, cli); !r.ok() || r.client.DidResume {
		t.Fatalf("first: resumed %v, server %v, client %v", r.client.DidResume, r.serverErr, r.clientErr)
	}
	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("second: server %v, client %v", r.serverErr, r.clientErr)
	}
	if r.server.DidResume != want || r.client.DidResume != want {
		t.Errorf("second: resumed %v (server) / %v (client), want %v", r.server.DidResume, r.client.DidResume, want)
	}
}

// TestPassphraseServerOffIgnoresClusterTickets: the ticket keys of a
// cluster come from its seed, so a session from node X would open on node
// Y; with session_resumption = false Y makes a full handshake anyway. X
// still resumes the same session afterwards: the client did offer it.
func TestPassphraseServerOffIgnoresClusterTickets(t *testing.T) {
	x := serverConfig(t, newTestManager(Options{NodeName: "x"}), ptunnel(config.ModeServer, pass1))
	yt := ptunnel(config.ModeServer, pass1)
	yt.TLS = resumeOff(&config.TLS{}, true)
	y := serverConfig(t, newTestManager(Options{NodeName: "y"}), yt)
	cli := clientConfig(t, newTestManager(Options{NodeName: "c"}), ptunnel(config.ModeClient, pass1))

	if r := handshake(t, x, cli); !r.ok() {
		t.Fatalf("X: server %v, client %v", r.serverErr, r.clientErr)
	}
	if r := handshake(t, y, cli); !r.ok() || r.server.DidResume || r.client.DidResume {
		t.Fatalf("Y: resumed %v/%v, server %v, client %v", r.server.DidResume, r.client.DidResume, r.serverErr, r.clientErr)
	}
	if r := handshake(t, x, cli); !r.ok() || !r.client.DidResume {
		t.Errorf("X again: resumed %v, server %v, client %v", r.client.DidResume, r.serverErr, r.clientErr)
	}
}

// resumeClientKind is one identity a client tunnel can have, and a plain
// Go server, with session tickets on, that it accepts.
type resumeClientKind struct {
	name   string
	client func(t *testing.T, off bool) *tls.Config
	server *tls.Config
}

func resumeClientKinds(t *testing.T) []resumeClientKind {
	ca := newTestCA(t, "resume CA")
	cert, key := ca.issueFiles(t, "client", clientSpec("client"))
	srvCert, err := ca.Issue(serverSpec())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	fileServer := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	node, err := derivedCA(t, pass1, "test").IssueNode("s", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Options{})
	t.Cleanup(m.Close)
	pm := newTestManager(Options{NodeName: "c"})
	return []resumeClientKind{
		{"files", func(t *testing.T, off bool) *tls.Config {
			tun := tunnel(config.ModeClient, resumeOff(&config.TLS{CA: ca.file, Cert: cert, Key: key}, off))
			cfg, err := m.ClientTLSConfig(tun, "db.internal")
			if err != nil {
				t.Fatal(err)
			}
			return cfg
		}, fileServer},
		{"files without a Manager", func(t *testing.T, off bool) *tls.Config {
			return mustClient(t, resumeOff(&config.TLS{CA: ca.file, Cert: cert, Key: key}, off), "db.internal")
		}, fileServer},
		{"passphrase", func(t *testing.T, off bool) *tls.Config {
			tun := ptunnel(config.ModeClient, pass1)
			tun.TLS = resumeOff(&config.TLS{MinVersion: "1.2"}, off)
			return clientConfig(t, pm, tun)
		}, &tls.Config{Certificates: []tls.Certificate{node}, ClientAuth: tls.RequireAnyClientCert}},
	}
}

// TestClientSessionResumptionOff: a client tunnel of every identity
// resumes its sessions with a Go server that issues tickets, unless
// session_resumption = false: then the server sees a full handshake on
// every connection.
func TestClientSessionResumptionOff(t *testing.T) {
	for _, k := range resumeClientKinds(t) {
		for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			for _, off := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/session_resumption=%v", k.name, tls.VersionName(version), !off)
				t.Run(name, func(t *testing.T) {
					srv := k.server.Clone()
					srv.MinVersion, srv.MaxVersion = version, version
					expectResumption(t, srv, k.client(t, off), !off)
				})
			}
		}
	}
}

// TestSessionResumptionOffEveryIdentity: every config pki builds with
// session_resumption = false, ACME's included (whose certificate needs a
// CA to complete a handshake), has tickets disabled and nothing that
// would keep or open a session; the default keeps them.
func TestSessionResumptionOffEveryIdentity(t *testing.T) {
	m := NewManager(Options{StateDir: t.TempDir()})
	t.Cleanup(m.Close)
	for _, off := range []bool{false, true} {
		acme := acmeTunnel(t, newTestCA(t, "clients"))
		resumeOff(acme.TLS, off)
		e, err := m.Server(acme)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Release)
		cfg := e.Config
		hello := &tls.ClientHelloInfo{ServerName: "edge.example.test"}
		served, err := cfg.GetConfigForClient(hello)
		if err != nil || served == nil {
			t.Fatalf("acme, off %v: config for a client %v, %v", off, served, err)
		}
		for _, c := range []*tls.Config{cfg, served} {
			if c.SessionTicketsDisabled != off {
				t.Errorf("acme, off %v: SessionTicketsDisabled %v", off, c.SessionTicketsDisabled)
			}
		}
	}
	for _, k := range resumeServerKinds(t) {
		cfg := k.server(t, true)
		if !cfg.SessionTicketsDisabled || cfg.WrapSession != nil || cfg.UnwrapSession != nil {
			t.Errorf("server %s: tickets disabled %v, wrap %v, unwrap %v",
				k.name, cfg.SessionTicketsDisabled, cfg.WrapSession != nil, cfg.UnwrapSession != nil)
		}
	}
	for _, k := range resumeClientKinds(t) {
		on, off := k.client(t, false), k.client(t, true)
		if on.ClientSessionCache == nil || on.SessionTicketsDisabled {
			t.Errorf("client %s, default: cache %v, tickets disabled %v", k.name, on.ClientSessionCache, on.SessionTicketsDisabled)
		}
		if off.ClientSessionCache != nil || !off.SessionTicketsDisabled {
			t.Errorf("client %s, off: cache %v, tickets disabled %v", k.name, off.ClientSessionCache, off.SessionTicketsDisabled)
		}
	}
}
