package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func TestMutualTLS(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	cCert, cKey := ca.issueFiles(t, "client", clientSpec("client-1"))

	srv := mustServerEndpoint(t, &config.TLS{Cert: sCert, Key: sKey, CA: ca.file, ClientAuth: "require"})
	cli := mustClientEndpoint(t, &config.TLS{Cert: cCert, Key: cKey, CA: ca.file}, "db.internal")
	r := handshake(t, srv.Config, cli.Config)
	if !r.ok() {
		t.Fatalf("handshake: server: %v, client: %v", r.serverErr, r.clientErr)
	}
	if got := peerCN(t, srv, r.server); got != "client-1" {
		t.Errorf("server verified client CN %q, want client-1", got)
	}
	if got := peerCN(t, cli, r.client); got != "server" {
		t.Errorf("client verified server CN %q, want server", got)
	}
}

func TestClientAuthModes(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	cCert, cKey := ca.issueFiles(t, "client", clientSpec("client-1"))
	tests := []struct {
		mode     string
		withCert bool
		wantOK   bool
	}{
		{"require", false, false},
		{"", false, false}, // default is require
		{"request", false, true},
		{"none", false, true},
		{"require", true, true},
		{"request", true, true},
	}
	for _, tc := range tests {
		name := tc.mode
		if tc.withCert {
			name += "/cert"
		}
		t.Run(name, func(t *testing.T) {
			srvCA := ca.file
			if tc.mode == "none" {
				srvCA = "" // none must not need a CA
			}
			srv := mustServerEndpoint(t, &config.TLS{Cert: sCert, Key: sKey, CA: srvCA, ClientAuth: tc.mode})
			cc := &config.TLS{CA: ca.file}
			if tc.withCert {
				cc.Cert, cc.Key = cCert, cKey
			}
			r := handshake(t, srv.Config, mustClient(t, cc, "db.internal"))
			if r.ok() != tc.wantOK {
				t.Fatalf("ok = %v, want %v (server: %v, client: %v)", r.ok(), tc.wantOK, r.serverErr, r.clientErr)
			}
			if !tc.wantOK && !strings.Contains(r.serverErr.Error(), "certificate") {
				t.Errorf("server error %q does not mention the missing certificate", r.serverErr)
			}
			if tc.wantOK && tc.withCert && peerCN(t, srv, r.server) != "client-1" {
				t.Error("client certificate given but not verified")
			}
		})
	}
}

func TestClientCertFromOtherCARefused(t *testing.T) {
	ca := newTestCA(t, "ca")
	// Same subject as the real CA: Go clients only send a certificate whose
	// issuer the server lists, and an attacker would copy the name too.
	rogue := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	cCert, cKey := rogue.issueFiles(t, "client", clientSpec("intruder"))
	for _, mode := range []string{"require", "request"} {
		t.Run(mode, func(t *testing.T) {
			srv := mustServer(t, &config.TLS{Cert: sCert, Key: sKey, CA: ca.file, ClientAuth: mode})
			cli := mustClient(t, &config.TLS{Cert: cCert, Key: cKey, CA: ca.file}, "db.internal")
			r := handshake(t, srv, cli)
			var unknown x509.UnknownAuthorityError
			if !errors.As(r.serverErr, &unknown) {
				t.Fatalf("server error = %v, want x509.UnknownAuthorityError", r.serverErr)
			}
			if r.clientErr == nil {
				t.Fatal("client was not told it was refused")
			}
		})
	}
}

func TestServerNameVerification(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", pkitest.LeafSpec{CommonName: "db", DNSNames: []string{"db.internal"}, Server: true})
	srv := mustServer(t, &config.TLS{Cert: sCert, Key: sKey, ClientAuth: "none"})
	tests := []struct {
		name, serverName, target string
		wantOK                   bool
	}{
		{"server_name matches", "db.internal", "10.0.0.1", true},
		{"target host used", "", "db.internal", true},
		{"server_name mismatch", "other.internal", "db.internal", false},
		{"target mismatch", "", "other.internal", false},
		{"IP target without IP SAN", "", "127.0.0.1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli := mustClient(t, &config.TLS{CA: ca.file, ServerName: tc.serverName}, tc.target)
			r := handshake(t, srv, cli)
			if r.ok() != tc.wantOK {
				t.Fatalf("ok = %v, want %v (server: %v, client: %v)", r.ok(), tc.wantOK, r.serverErr, r.clientErr)
			}
			var hostErr x509.HostnameError
			if !tc.wantOK && !errors.As(r.clientErr, &hostErr) {
				t.Errorf("client error = %v, want x509.HostnameError", r.clientErr)
			}
		})
	}
}

func TestIPTargetVerifiedAgainstIPSAN(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", pkitest.LeafSpec{CommonName: "node",
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, Server: true})
	srv := mustServer(t, &config.TLS{Cert: sCert, Key: sKey, ClientAuth: "none"})
	for _, target := range []string{"127.0.0.1", "::1", "[::1]"} {
		cli := mustClient(t, &config.TLS{CA: ca.file}, target)
		if r := handshake(t, srv, cli); !r.ok() {
			t.Errorf("target %s: server: %v, client: %v", target, r.serverErr, r.clientErr)
		}
	}
	cli := mustClient(t, &config.TLS{CA: ca.file}, "127.0.0.2")
	var hostErr x509.HostnameError
	if r := handshake(t, srv, cli); !errors.As(r.clientErr, &hostErr) {
		t.Errorf("IP not in SANs: client error = %v, want x509.HostnameError", r.clientErr)
	}
}

func TestVersionMismatchRefused(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	srv := mustServer(t, &config.TLS{Cert: sCert, Key: sKey, ClientAuth: "none", MinVersion: "1.3"})

	r := handshake(t, srv, mustClient(t, &config.TLS{CA: ca.file, MaxVersion: "1.2"}, "db.internal"))
	if r.serverErr == nil || r.clientErr == nil {
		t.Fatalf("min 1.3 vs max 1.2 accepted (server: %v, client: %v)", r.serverErr, r.clientErr)
	}
	if !strings.Contains(r.serverErr.Error(), "version") {
		t.Errorf("server error %q does not mention the version", r.serverErr)
	}
	r = handshake(t, srv, mustClient(t, &config.TLS{CA: ca.file}, "db.internal"))
	if !r.ok() || r.client.Version != tls.VersionTLS13 {
		t.Fatalf("default client vs min 1.3: version %x, server: %v, client: %v", r.client.Version, r.serverErr, r.clientErr)
	}
}

func TestCombinedCertAndKeyFile(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	// Key first: the order of blocks in a combined file must not matter.
	combined := writeFile(t, "combined.pem", append(readTestFile(t, sKey), readTestFile(t, sCert)...))
	srv := mustServer(t, &config.TLS{Cert: combined, ClientAuth: "none"})
	if r := handshake(t, srv, mustClient(t, &config.TLS{CA: ca.file}, "db.internal")); !r.ok() {
		t.Fatalf("server: %v, client: %v", r.serverErr, r.clientErr)
	}
}

func TestALPNSuitesCurvesApplied(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	const suite = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
	srv := mustServer(t, &config.TLS{Cert: sCert, Key: sKey, ClientAuth: "none", MaxVersion: "1.2",
		CipherSuites: []string{suite}, Curves: []string{"secp384r1"}, ALPN: []string{"h2", "redis"}})
	cli := mustClient(t, &config.TLS{CA: ca.file, ALPN: []string{"redis"}}, "db.internal")
	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("server: %v, client: %v", r.serverErr, r.clientErr)
	}
	if got := tls.CipherSuiteName(r.client.CipherSuite); got != suite {
		t.Errorf("cipher suite %s, want %s", got, suite)
	}
	if r.client.CurveID != tls.CurveP384 {
		t.Errorf("curve %v, want P-384", r.client.CurveID)
	}
	if r.client.NegotiatedProtocol != "redis" {
		t.Errorf("ALPN %q, want redis", r.client.NegotiatedProtocol)
	}
}

func TestSystemRootsUnionWithCA(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	srv := mustServer(t, &config.TLS{Cert: sCert, Key: sKey, ClientAuth: "none"})
	cli := mustClient(t, &config.TLS{CA: ca.file, SystemRoots: true}, "db.internal")
	if r := handshake(t, srv, cli); !r.ok() {
		t.Fatalf("server: %v, client: %v", r.serverErr, r.clientErr)
	}
	cli = mustClient(t, &config.TLS{SystemRoots: true}, "db.internal")
	var unknown x509.UnknownAuthorityError
	if r := handshake(t, srv, cli); !errors.As(r.clientErr, &unknown) {
		t.Fatalf("system roots alone trusted a private CA: client error %v", r.clientErr)
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	ca := newTestCA(t, "ca")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	srv := mustServer(t, &config.TLS{Cert: sCert, Key: sKey, ClientAuth: "none"})
	cli := mustClient(t, &config.TLS{InsecureSkipVerify: true}, "")
	if !cli.InsecureSkipVerify {
		t.Fatal("InsecureSkipVerify not set")
	}
	if r := handshake(t, srv, cli); !r.ok() {
		t.Fatalf("server: %v, client: %v", r.serverErr, r.clientErr)
	}
}
