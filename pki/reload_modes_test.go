package pki

import (
	"crypto/tls"
	"path/filepath"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testfs"
)

// Moving the client verification into VerifyConnection keeps what each
// client_auth mode accepts: the same table as TestClientAuthModes, plus a
// certificate of an unknown CA, through a Manager.
func TestReloadKeepsClientAuthModes(t *testing.T) {
	ca, other := newTestCA(t, "ca"), newTestCA(t, "other")
	sCert, sKey := ca.issueFiles(t, "server", serverSpec())
	good, bad := ca.issuePEM(t, clientSpec("c")), other.issuePEM(t, clientSpec("c"))
	m, _ := reloadManager(t, time.Hour, true)
	for _, tc := range []struct {
		mode   string
		cert   *pemPair
		wantOK bool
	}{
		{"require", nil, false}, {"request", nil, true}, {"none", nil, true},
		{"require", &good, true}, {"request", &good, true},
		{"require", &bad, false}, {"request", &bad, false}, {"none", &bad, true},
	} {
		name := tc.mode
		if tc.cert != nil {
			name += "/" + tc.cert.fp[:12]
		}
		t.Run(name, func(t *testing.T) {
			srvCA := ca.file
			if tc.mode == "none" {
				srvCA = ""
			}
			e, err := m.Server(tunnel(config.ModeServer, &config.TLS{Cert: sCert, Key: sKey, CA: srvCA, ClientAuth: tc.mode}))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Release()
			srv := e.Config
			cli := mustClient(t, &config.TLS{CA: ca.file}, "db.internal")
			if tc.cert != nil {
				// Sent whatever CAs the server names: a Go client with
				// Certificates would send none of an unnamed CA.
				c := pairOf(t, *tc.cert)
				cli.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
			}
			if r := handshake(t, srv, cli); r.ok() != tc.wantOK {
				t.Fatalf("ok = %v, want %v (server: %v, client: %v)", r.ok(), tc.wantOK, r.serverErr, r.clientErr)
			}
		})
	}
}

// Events that never stop (a file written every few ms beside the
// certificate) postpone a check by at most maxDebounce.
func TestReloadBusyDirectoryNotStarved(t *testing.T) {
	ca := newTestCA(t, "busy")
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	cert, key := pairFiles(t, a)
	dir := filepath.Dir(cert)
	m, _ := reloadManager(t, time.Hour, true)
	srv, err := m.ServerTLSConfig(serverTunnel(cert, key, ""))
	if err != nil {
		t.Fatal(err)
	}
	testfs.Churn(t, filepath.Join(dir, "noise.log"), testDebounce/5)
	testfs.RenameOver(t, key, b.key)
	testfs.RenameOver(t, cert, b.cert)
	// Without the bound, and with an hour between re-checks, this waits
	// in vain.
	waitServed(t, srv, ca, b.fp)
}

func pairOf(t *testing.T, p pemPair) tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair(p.cert, p.key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
