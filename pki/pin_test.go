package pki

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testlog"
)

// pinFixture is two unrelated CAs and leaves from them, as files.
type pinFixture struct {
	caA, caB                    testCA
	srvCert, srvKey             string // CA A, db.internal and 127.0.0.1
	strangerCert, strangerKey   string // CA B, same names
	cliCert, cliKey             string // CA A, CN app
	otherCliCert, otherCliKey   string // CA A, CN other
	srvFP, strangerFP, cliFP    string
	srvTLS, strangerTLS, cliTLS tls.Certificate
}

func newPinFixture(t *testing.T) *pinFixture {
	f := &pinFixture{caA: newTestCA(t, "pin-a"), caB: newTestCA(t, "pin-b")}
	f.srvCert, f.srvKey = f.caA.issueFiles(t, "srv", serverSpec())
	f.strangerCert, f.strangerKey = f.caB.issueFiles(t, "stranger", serverSpec())
	f.cliCert, f.cliKey = f.caA.issueFiles(t, "cli", clientSpec("app"))
	f.otherCliCert, f.otherCliKey = f.caA.issueFiles(t, "other", clientSpec("other"))
	for _, p := range []struct {
		cert, key string
		fp        *string
		kp        *tls.Certificate
	}{{f.srvCert, f.srvKey, &f.srvFP, &f.srvTLS}, {f.strangerCert, f.strangerKey, &f.strangerFP, &f.strangerTLS},
		{f.cliCert, f.cliKey, &f.cliFP, &f.cliTLS}} {
		kp, err := LoadKeyPair(p.cert, p.key)
		if err != nil {
			t.Fatal(err)
		}
		*p.kp, *p.fp = kp, Fingerprint(kp.Leaf.Raw)
	}
	return f
}

// builders are the ways a file tunnel's config is made: the package-level
// functions (crypto/tls verifies the chain) and a Manager with hot reload
// (the chain is verified in VerifyConnection, before the pin and allow).
var builders = []struct {
	name string
	srv  func(*Manager, *config.Tunnel) (*tls.Config, error)
	cli  func(*Manager, *config.Tunnel, string) (*tls.Config, error)
}{
	{"static", func(_ *Manager, t *config.Tunnel) (*tls.Config, error) { return ServerTLSConfig(t) },
		func(_ *Manager, t *config.Tunnel, h string) (*tls.Config, error) { return ClientTLSConfig(t, h) }},
	{"manager", (*Manager).ServerTLSConfig, (*Manager).ClientTLSConfig},
}

func TestPinClient(t *testing.T) {
	f := newPinFixture(t)
	lower := strings.ToLower(f.srvFP)
	tests := []struct {
		name     string
		tls      config.TLS
		presents tls.Certificate
		refusal  string // "" = accepted
	}{
		{"pin alone accepts the pinned server", config.TLS{Pin: []string{f.strangerFP, lower}}, f.srvTLS, ""},
		{"pin alone needs no CA or name", config.TLS{Pin: []string{f.strangerFP}}, f.strangerTLS, ""},
		{"pin alone refuses another server", config.TLS{Pin: []string{f.strangerFP}}, f.srvTLS,
			"peer certificate " + f.srvFP + ` (CN="server") matches no tls.pin entry`},
		{"pin and CA: both pass", config.TLS{CA: f.caA.file, ServerName: "db.internal", Pin: []string{f.srvFP}}, f.srvTLS, ""},
		{"pin and CA: pin fails", config.TLS{CA: f.caA.file, ServerName: "db.internal", Pin: []string{f.strangerFP}}, f.srvTLS,
			"matches no tls.pin entry"},
		{"pin and CA: CA fails", config.TLS{CA: f.caA.file, ServerName: "db.internal", Pin: []string{f.strangerFP}}, f.strangerTLS,
			"certificate signed by unknown authority"},
	}
	for _, b := range builders {
		for _, tc := range tests {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				m := NewManager(Options{})
				cfg, err := b.cli(m, tunnel(config.ModeClient, &tc.tls), "127.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				r := handshake(t, &tls.Config{Certificates: []tls.Certificate{tc.presents}}, cfg)
				checkRefusal(t, r.clientErr, r, tc.refusal)
			})
		}
	}
}

func TestPinServer(t *testing.T) {
	f := newPinFixture(t)
	other, err := LoadKeyPair(f.otherCliCert, f.otherCliKey)
	if err != nil {
		t.Fatal(err)
	}
	none := tls.Certificate{}
	tests := []struct {
		name     string
		tls      config.TLS
		presents tls.Certificate
		refusal  string
	}{
		{"pin alone accepts the pinned client", config.TLS{Pin: []string{f.cliFP}}, f.cliTLS, ""},
		{"pin alone refuses another client", config.TLS{Pin: []string{f.cliFP}}, other,
			`(CN="other") matches no tls.pin entry`},
		{"pin alone requires a certificate", config.TLS{Pin: []string{f.cliFP}}, none, "didn't provide a certificate"},
		{"request: no certificate passes", config.TLS{ClientAuth: "request", Pin: []string{f.cliFP}}, none, ""},
		{"request: a wrong one does not", config.TLS{ClientAuth: "request", Pin: []string{f.cliFP}}, other, "matches no tls.pin entry"},
		{"pin and CA: both pass", config.TLS{CA: f.caA.file, Pin: []string{f.cliFP}}, f.cliTLS, ""},
		{"pin and CA: pin fails", config.TLS{CA: f.caA.file, Pin: []string{f.cliFP}}, other, "matches no tls.pin entry"},
		{"pin and CA: CA fails", config.TLS{CA: f.caB.file, Pin: []string{f.cliFP}}, f.cliTLS, "unknown authority"},
	}
	for _, b := range builders {
		for _, tc := range tests {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				c := tc.tls
				c.Cert, c.Key = f.srvCert, f.srvKey
				cfg, err := b.srv(NewManager(Options{}), tunnel(config.ModeServer, &c))
				if err != nil {
					t.Fatal(err)
				}
				cli := &tls.Config{RootCAs: f.caA.pool(), ServerName: "db.internal"}
				if tc.presents.Leaf != nil {
					// Sent whoever the server names as acceptable CAs:
					// a Go client would otherwise keep it to itself.
					cli.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc.presents, nil }
				}
				r := handshake(t, cfg, cli)
				checkRefusal(t, r.serverErr, r, tc.refusal)
			})
		}
	}
}

// Allow narrows a CA-verified file tunnel, on the server and the client.
func TestAllowFileTunnels(t *testing.T) {
	f := newPinFixture(t)
	for _, b := range builders {
		for _, tc := range []struct {
			cn      string
			refusal string
		}{{"app", ""}, {"someone", `peer CN="app" is not allowed by allow { }`}} {
			t.Run(b.name+"/server allow cn "+tc.cn, func(t *testing.T) {
				st := tunnel(config.ModeServer, &config.TLS{Cert: f.srvCert, Key: f.srvKey, CA: f.caA.file})
				st.Allow = config.Allow{CN: []string{tc.cn}}
				cfg, err := b.srv(NewManager(Options{}), st)
				if err != nil {
					t.Fatal(err)
				}
				r := handshake(t, cfg, &tls.Config{RootCAs: f.caA.pool(), ServerName: "db.internal", Certificates: []tls.Certificate{f.cliTLS}})
				checkRefusal(t, r.serverErr, r, tc.refusal)
			})
		}
		t.Run(b.name+"/client allow dns", func(t *testing.T) {
			ct := tunnel(config.ModeClient, &config.TLS{CA: f.caA.file, ServerName: "db.internal"})
			ct.Allow = config.Allow{DNS: []string{"*.other"}}
			cfg, err := b.cli(NewManager(Options{}), ct, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			r := handshake(t, &tls.Config{Certificates: []tls.Certificate{f.srvTLS}}, cfg)
			checkRefusal(t, r.clientErr, r, `DNS=["db.internal"] is not allowed`)
		})
	}
}

func (ca testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// checkRefusal wants the handshake to succeed (refusal "") or the refusing
// side's error to contain refusal.
func checkRefusal(t *testing.T, refuserErr error, r result, refusal string) {
	t.Helper()
	if refusal == "" {
		if !r.ok() {
			t.Fatalf("refused: server %v, client %v", r.serverErr, r.clientErr)
		}
		return
	}
	if refuserErr == nil || !strings.Contains(refuserErr.Error(), refusal) {
		t.Fatalf("refusal %v, want one containing %q (server %v, client %v)", refuserErr, refusal, r.serverErr, r.clientErr)
	}
}

// A client pinned to a server's self-signed certificate connects; the
// fingerprint is the one the Manager logged.
func TestSelfSignedPinnedHandshake(t *testing.T) {
	var log testlog.Buffer
	m := NewManager(Options{StateDir: t.TempDir(), Logger: textLogger(&log)})
	srv, err := m.ServerTLSConfig(selfSignedTunnel("web"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(log.String(), "fingerprint=")
	if i < 0 {
		t.Fatalf("no fingerprint logged: %s", log.String())
	}
	fp := strings.Fields(log.String()[i+len("fingerprint="):])[0]
	for _, tc := range []struct {
		pin     string
		refusal string
	}{{fp, ""}, {"SHA256" + strings.Repeat(":00", 32), "matches no tls.pin entry"}} {
		cli, err := ClientTLSConfig(tunnel(config.ModeClient, &config.TLS{Pin: []string{tc.pin}}), "localhost")
		if err != nil {
			t.Fatal(err)
		}
		r := handshake(t, srv, cli)
		checkRefusal(t, r.clientErr, r, tc.refusal)
	}
}
