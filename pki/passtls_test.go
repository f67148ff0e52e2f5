package pki

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

const notOurCA = "is not signed by this cluster's CA (wrong passphrase or cluster?)"

func TestPassphraseHandshake(t *testing.T) {
	srvM, cliM := newTestManager(Options{NodeName: "srv"}), newTestManager(Options{NodeName: "cli"})
	srv := serverConfig(t, srvM, ptunnel(config.ModeServer, pass1))
	cli := clientConfig(t, cliM, ptunnel(config.ModeClient, pass1))
	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("server %v, client %v", r.serverErr, r.clientErr)
	}
	if got := r.server.PeerCertificates[0].Subject.CommonName; got != "cli" {
		t.Errorf("server saw client %q", got)
	}
	if got := r.client.PeerCertificates[0].URIs[0].String(); got != "spiffe://test/node/srv" {
		t.Errorf("client saw server %q", got)
	}
	if r.client.Version != tls.VersionTLS13 {
		t.Errorf("version %x", r.client.Version)
	}
}

func TestPassphraseMismatchRefused(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	srv := serverConfig(t, m, ptunnel(config.ModeServer, pass1))
	cli := clientConfig(t, m, ptunnel(config.ModeClient, pass2))
	r := handshake(t, srv, cli)
	if r.clientErr == nil || !strings.Contains(r.clientErr.Error(), notOurCA) {
		t.Errorf("client: %v", r.clientErr)
	}
	if r.serverErr == nil {
		t.Error("server accepted the handshake")
	}

	// The server side, on its own: a client that skips verification
	// and presents a node certificate of another passphrase.
	intruder, err := derivedCA(t, pass2, "test").IssueNode("intruder", 0)
	if err != nil {
		t.Fatal(err)
	}
	raw := &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{intruder}}
	r = handshake(t, srv, raw)
	if r.serverErr == nil || !strings.Contains(r.serverErr.Error(), `peer certificate "intruder" `+notOurCA) {
		t.Errorf("server: %v", r.serverErr)
	}
	if r.clientErr == nil {
		t.Error("client without a cluster certificate got through")
	}
	r = handshake(t, srv, &tls.Config{InsecureSkipVerify: true})
	if r.serverErr == nil || r.clientErr == nil {
		t.Errorf("client without any certificate: server %v, client %v", r.serverErr, r.clientErr)
	}
	// And a server of another passphrase, to a client that presents ours.
	rawSrv := &tls.Config{Certificates: []tls.Certificate{intruder}, ClientAuth: tls.RequireAnyClientCert}
	r = handshake(t, rawSrv, clientConfig(t, m, ptunnel(config.ModeClient, pass1)))
	if r.clientErr == nil || !strings.Contains(r.clientErr.Error(), notOurCA) {
		t.Errorf("client to a foreign server: %v", r.clientErr)
	}
}

func TestOtherClusterRefused(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	other := ptunnel(config.ModeClient, pass1)
	other.Cluster = "other"
	r := handshake(t, serverConfig(t, m, ptunnel(config.ModeServer, pass1)), clientConfig(t, m, other))
	if r.clientErr == nil || !strings.Contains(r.clientErr.Error(), notOurCA) || r.serverErr == nil {
		t.Errorf("server %v, client %v", r.serverErr, r.clientErr)
	}
}

func TestPassphraseRotation(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	a := func(mode config.Mode, prev ...string) *config.Tunnel { return ptunnel(mode, pass2, prev...) }
	b := func(mode config.Mode) *config.Tunnel { return ptunnel(mode, pass1) }
	tests := []struct {
		name     string
		srv, cli *config.Tunnel
		ok       bool
	}{
		{"A{P2,prev P1} serves B{P1}", a(config.ModeServer, pass1), b(config.ModeClient), true},
		{"B{P1} serves A{P2,prev P1}", b(config.ModeServer), a(config.ModeClient, pass1), true},
		{"B{P2} meets A", a(config.ModeServer, pass1), ptunnel(config.ModeClient, pass2), true},
		{"A{P2} refuses B{P1} as server", a(config.ModeServer), b(config.ModeClient), false},
		{"A{P2} refuses B{P1} as client", b(config.ModeServer), a(config.ModeClient), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := handshake(t, serverConfig(t, m, tc.srv), clientConfig(t, m, tc.cli))
			if r.ok() != tc.ok {
				t.Errorf("ok %v, want %v: server %v, client %v", r.ok(), tc.ok, r.serverErr, r.clientErr)
			}
			if tc.ok && tc.srv.PreviousPassphrases != nil {
				chain := r.client.PeerCertificates
				if len(chain) != 2 || chain[0].Issuer.String() != derivedCA(t, pass2, "test").Cert.Subject.String() {
					t.Errorf("rotating server sent %d certificates, first from %v", len(chain), chain[0].Issuer)
				}
			}
			if !tc.ok {
				if err := firstErr(r); err == nil || !strings.Contains(err.Error(), notOurCA) {
					t.Errorf("reason: %v", err)
				}
			}
		})
	}
}

// firstErr is the error of the end that refused; the other end only
// sees the alert.
func firstErr(r result) error {
	for _, err := range []error{r.clientErr, r.serverErr} {
		if err != nil && !strings.Contains(err.Error(), "remote error") {
			return err
		}
	}
	return nil
}

func TestSessionResumesAcrossNodes(t *testing.T) {
	x := serverConfig(t, newTestManager(Options{NodeName: "x"}), ptunnel(config.ModeServer, pass1))
	// Y is another process: another Manager, another node key.
	y := serverConfig(t, newTestManager(Options{NodeName: "y"}), ptunnel(config.ModeServer, pass1))
	cli := clientConfig(t, newTestManager(Options{NodeName: "c"}), ptunnel(config.ModeClient, pass1))
	if r := handshake(t, x, cli); !r.ok() || r.client.DidResume {
		t.Fatalf("first: resumed %v, server %v, client %v", r.client.DidResume, r.serverErr, r.clientErr)
	}
	r := handshake(t, y, cli)
	if !r.ok() || !r.client.DidResume || !r.server.DidResume || r.server.Version != tls.VersionTLS13 {
		t.Fatalf("X's session on Y: resumed %v/%v, version %x, server %v, client %v",
			r.client.DidResume, r.server.DidResume, r.server.Version, r.serverErr, r.clientErr)
	}
	if len(r.server.PeerCertificates) == 0 || r.server.PeerCertificates[0].Subject.CommonName != "c" {
		t.Error("resumed session lost the client's identity")
	}
	// The same client pair resumes too.
	if r := handshake(t, x, cli); !r.ok() || !r.client.DidResume {
		t.Errorf("X again: resumed %v, server %v, client %v", r.client.DidResume, r.serverErr, r.clientErr)
	}
	// Z is mid-rotation to another passphrase: it trusts the client but
	// cannot open tickets of the old one, so it makes a full handshake.
	z := serverConfig(t, newTestManager(Options{NodeName: "z"}), ptunnel(config.ModeServer, pass2, pass1))
	if r := handshake(t, z, cli); !r.ok() || r.client.DidResume {
		t.Errorf("Z: resumed %v, server %v, client %v", r.client.DidResume, r.serverErr, r.clientErr)
	}
}

func TestPassphraseTLSSettings(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	srvT := ptunnel(config.ModeServer, pass1)
	srvT.TLS = &config.TLS{MinVersion: "1.2", MaxVersion: "1.2", ALPN: []string{"redis"}}
	cliT := ptunnel(config.ModeClient, pass1)
	cliT.TLS = &config.TLS{MinVersion: "1.2", ALPN: []string{"redis"}}
	srv, cli := serverConfig(t, m, srvT), clientConfig(t, m, cliT)
	r := handshake(t, srv, cli)
	if !r.ok() || r.client.Version != tls.VersionTLS12 || r.client.NegotiatedProtocol != "redis" {
		t.Errorf("version %x, alpn %q, server %v, client %v", r.client.Version, r.client.NegotiatedProtocol, r.serverErr, r.clientErr)
	}
	// A TLS 1.2 ticket would carry the master secret under keys derived
	// from the passphrase: none is resumable.
	if r = handshake(t, srv, cli); !r.ok() || r.server.DidResume {
		t.Errorf("TLS 1.2 resumption: resumed %v, server %v, client %v", r.server.DidResume, r.serverErr, r.clientErr)
	}
}

func TestPassphraseConfigErrors(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	withTLS := ptunnel(config.ModeServer, pass1)
	withTLS.TLS = &config.TLS{CA: "/ca.pem"}
	withTLS.Fields["tls.ca"] = config.Pos{File: "x.hcl", Line: 9, Column: 5}
	if _, err := m.ServerTLSConfig(withTLS); err == nil ||
		!strings.HasPrefix(err.Error(), `x.hcl:9:5: tunnel "redis": tls.ca: cannot be combined with passphrase`) {
		t.Errorf("tls.ca with passphrase: %v", err)
	}
	badCluster := ptunnel(config.ModeClient, pass1)
	badCluster.Cluster = "Bad Name"
	if _, err := m.ClientTLSConfig(badCluster, "h"); err == nil || !strings.Contains(err.Error(), "cluster: invalid cluster name") {
		t.Errorf("bad cluster: %v", err)
	}
	if _, err := ServerTLSConfig(ptunnel(config.ModeServer, pass1)); err == nil || !strings.Contains(err.Error(), "pki.Manager") {
		t.Errorf("package-level ServerTLSConfig: %v", err)
	}
	cli := clientConfig(t, m, ptunnel(config.ModeClient, pass1))
	if cli.ServerName != "127.0.0.1" || cli.ClientSessionCache == nil {
		t.Errorf("ServerName %q, cache %v", cli.ServerName, cli.ClientSessionCache)
	}
	if cfg, err := m.ClientTLSConfig(ptunnel(config.ModeClient, pass1), ""); err != nil || cfg.ServerName != "test.passtunnel.internal" {
		t.Errorf("no target host: %v, ServerName %q", err, cfg.ServerName)
	}
}

// config refuses what refuseWithPassphrase refuses, first and with a
// position; pki's check stays as the backstop. The two lists must agree.
func TestPassphraseRefusalsMatchConfig(t *testing.T) {
	cases := []struct {
		mode  config.Mode
		field string
		hcl   string
		tls   config.TLS
	}{
		{config.ModeServer, "tls.cert", `cert = "c.pem"`, config.TLS{Cert: "c.pem"}},
		{config.ModeServer, "tls.key", `key = "k.pem"`, config.TLS{Key: "k.pem"}},
		{config.ModeServer, "tls.ca", `ca = "ca.pem"`, config.TLS{CA: "ca.pem"}},
		{config.ModeClient, "tls.ca", `ca = "ca.pem"`, config.TLS{CA: "ca.pem"}},
		{config.ModeClient, "tls.pin", `pin = ["SHA256` + strings.Repeat(":AB", 32) + `"]`, config.TLS{Pin: []string{"SHA256:AB"}}},
		{config.ModeClient, "tls.system_roots", `system_roots = true`, config.TLS{SystemRoots: true}},
		{config.ModeClient, "tls.insecure_skip_verify", `insecure_skip_verify = true`, config.TLS{InsecureSkipVerify: true}},
		{config.ModeServer, "tls.self_signed", `self_signed = true`, config.TLS{SelfSigned: true}},
		{config.ModeServer, "tls.client_auth", `client_auth = "none"`, config.TLS{ClientAuth: "none"}},
		{config.ModeServer, "tls.client_auth", `client_auth = "request"`, config.TLS{ClientAuth: "request"}},
		{config.ModeClient, "tls.verify", `verify = "pin"`, config.TLS{Verify: "pin"}},
		{config.ModeClient, "tls.legacy_common_name", `legacy_common_name = true`, config.TLS{LegacyCommonName: true}},
		{config.ModeServer, "tls.crl", `crl = ["r.crl"]`, config.TLS{CRL: []string{"r.crl"}}},
	}
	for _, tc := range cases {
		src := fmt.Sprintf("tunnel \"t\" {\n  mode = %q\n  listen = \"127.0.0.1:1\"\n  target = \"h:2\"\n"+
			"  passphrase = %q\n  tls { %s }\n}\n", tc.mode, pass1, tc.hcl)
		_, err := config.Parse([]byte(src), "x.hcl")
		if want := `x.hcl:6:9: tunnel "t": ` + tc.field + `: conflicts with passphrase`; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("config, %s: %v; want %s...", tc.hcl, err, want)
		}
		tun := ptunnel(tc.mode, pass1)
		tun.TLS = &tc.tls
		if err := refuseWithPassphrase(tun); err == nil || !strings.Contains(err.Error(), tc.field+": cannot be combined with passphrase") {
			t.Errorf("pki, %s: %v", tc.hcl, err)
		}
	}
}

// A stolen certificate of the cluster (without its key) does not help:
// only certificates of the key the handshake proved count.
func TestStolenCertificateInChainRefused(t *testing.T) {
	m := newTestManager(Options{NodeName: "n"})
	srv := serverConfig(t, m, ptunnel(config.ModeServer, pass1))
	stolen, err := derivedCA(t, pass1, "test").IssueNode("victim", 0)
	if err != nil {
		t.Fatal(err)
	}
	own, err := derivedCA(t, pass2, "test").IssueNode("intruder", 0)
	if err != nil {
		t.Fatal(err)
	}
	own.Certificate = append(own.Certificate, stolen.Certificate[0])
	r := handshake(t, srv, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{own}})
	if r.serverErr == nil || !strings.Contains(r.serverErr.Error(), "not a node chain of this cluster: certificate 2 is for another key") {
		t.Errorf("server: %v", r.serverErr)
	}
}
