package migrate

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// TestStunnelOptions: one service option (or a few) at a time, on a server
// (verifyChain with a CA, so that verification notes stay out of the
// way) or a client service: the HCL fragment it becomes, or the note.
func TestStunnelOptions(t *testing.T) {
	const server = "[s]\naccept = 6380\nconnect = 127.0.0.1:6379\ncert = /c.pem\nkey = /k.pem\nCAfile = /ca.pem\nverifyChain = yes\n"
	const client = "[s]\nclient = yes\naccept = 127.0.0.1:6379\nconnect = db:6380\nCAfile = /ca.pem\nverifyChain = yes\n"
	cases := []struct {
		name, base, opts string
		hcl, notes       []string
		security         bool
	}{
		{"accept ipv6", server, "accept = :::6380", []string{`listen = "[::]:6380"`}, nil, false},
		{"accept unix", server, "accept = /run/s.sock", []string{`listen = "unix:/run/s.sock"`}, nil, false},
		{"connect bare port", server, "", []string{`target = "127.0.0.1:6379"`}, nil, false},
		{"connect list", server, "connect = 127.0.0.1:6381", []string{`target  = ["127.0.0.1:6379", "127.0.0.1:6381"]`, `balance = "failover"`}, nil, false},
		{"failover rr", server, "connect = 127.0.0.1:6381\nfailover = rr", []string{`balance = "round_robin"`}, nil, false},
		{"client listen wide", client, "accept = 0.0.0.0:6379", []string{"unsafe_listen = true"}, []string{"beyond loopback"}, false},
		{"verify 0 server", "[s]\naccept = 1\nconnect = 2\ncert = /c\nverify = 0\n", "", []string{`client_auth = "none"`}, []string{"did not verify clients"}, false},
		{"no verify server", "[s]\naccept = 1\nconnect = 2\ncert = /c\nCAfile = /ca\n", "", []string{`client_auth = "none"`}, []string{"CAfile: not carried"}, false},
		{"verify 1 server", "[s]\naccept = 1\nconnect = 2\ncert = /c\nCAfile = /ca\nverify = 1\n", "", []string{`client_auth = "request"`, `ca          = "/ca"`}, nil, false},
		{"verify 2 server", "[s]\naccept = 1\nconnect = 2\ncert = /c\nCAfile = /ca\nverify = 2\n", "", []string{`client_auth = "require"`}, nil, false},
		{"requireCert no", server, "requireCert = no", []string{`client_auth = "request"`}, nil, false},
		{"verify 2 client", "[s]\nclient = yes\naccept = 127.0.0.1:1\nconnect = h:2\nCAfile = /ca\nverify = 2\n", "", []string{`verify = "chain"`, `ca     = "/ca"`}, nil, false},
		{"no verify client", "[s]\nclient = yes\naccept = 127.0.0.1:1\nconnect = h:2\n", "", []string{"insecure_skip_verify = true"}, []string{"SECURITY: verify: stunnel did not verify the server"}, true},
		{"no verify client with CAfile", "[s]\nclient = yes\naccept = 127.0.0.1:1\nconnect = h:2\nCAfile = /ca\n", "", []string{`verify = "chain"`}, []string{"passtunnel does"}, false},
		{"verify bad", server, "verify = 9", nil, []string{"SECURITY: verify: invalid level"}, true},
		{"checkHost client", client, "checkHost = db.internal", []string{`server_name = "db.internal"`}, nil, false},
		{"checkHost twice", client, "checkHost = a.internal\ncheckHost = b.internal", []string{`dns = ["a.internal", "b.internal"]`, `verify = "chain"`}, nil, false},
		{"checkHost server", server, "checkHost = client.internal", []string{`dns = ["client.internal"]`}, nil, false},
		{"checkIP", client, "checkIP = 10.0.0.1", nil, []string{"SECURITY: checkIP"}, true},
		{"checkEmail", server, "checkEmail = a@b", nil, []string{"SECURITY: checkEmail"}, true},
		{"CApath", "[s]\naccept = 1\nconnect = 2\ncert = /c\nverify = 2\nCApath = /etc/cas\n", "", []string{`ca          = "/etc/cas/passtunnel-ca.pem"`}, []string{"cat /etc/cas/*.pem"}, false},
		{"CApath system client", "[s]\nclient = yes\naccept = 127.0.0.1:1\nconnect = h:2\nverify = 2\nCApath = /etc/ssl/certs\n", "", []string{"system_roots = true"}, nil, false},
		{"CRLfile", server, "CRLfile = /crl.pem", []string{`crl         = ["/crl.pem"]`}, nil, false},
		{"CRLpath", server, "CRLpath = /crls", nil, []string{"SECURITY: CRLpath"}, true},
		{"sni client", "[s]\nclient = yes\naccept = 127.0.0.1:1\nconnect = h:2\nCAfile = /ca\nverify = 2\n", "sni = db.example", []string{`server_name = "db.example"`}, nil, false},
		{"TIMEOUTidle", server, "TIMEOUTidle = 600", []string{`idle_timeout = "600s"`}, nil, false},
		{"TIMEOUTconnect", server, "TIMEOUTconnect = 5", []string{`connect_timeout = "5s"`}, nil, false},
		{"TIMEOUTbusy", server, "TIMEOUTbusy = 300", nil, []string{"TIMEOUTbusy: not carried: the closest is limits.idle_timeout"}, false},
		{"TIMEOUTclose", server, "TIMEOUTclose = 60", []string{`close_timeout = "60s"`}, nil, false},
		{"TIMEOUTclose 0", server, "TIMEOUTclose = 0", nil, []string{"TIMEOUTclose: not carried"}, false},
		{"sslVersionMin", server, "sslVersionMin = TLSv1.3", []string{`min_version = "1.3"`}, nil, false},
		{"sslVersionMax", server, "sslVersionMax = TLSv1.2", []string{`max_version = "1.2"`}, nil, false},
		{"sslVersion old", server, "sslVersionMin = TLSv1", nil, []string{"TLSv1 is not offered"}, false},
		{"ciphers", server, "ciphers = ECDHE-RSA-AES256-GCM-SHA384:RC4-SHA", []string{`cipher_suites = ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]`}, []string{"not carried: RC4-SHA"}, false},
		{"ciphersuites", server, "ciphersuites = TLS_AES_256_GCM_SHA384", nil, []string{"ciphersuites: not carried: TLS 1.3"}, false},
		{"curves", server, "curves = prime256v1:X448", []string{`curves = ["prime256v1"]`}, []string{"not carried: X448"}, false},
		{"options NO_TICKET", server, "options = NO_TICKET", []string{"session_resumption = false"}, nil, false},
		{"options NO_TLSv1_2", server, "options = NO_TLSv1_2", []string{`min_version = "1.3"`}, nil, false},
		{"options other", server, "options = SINGLE_DH_USE", nil, []string{"options: not carried"}, false},
		{"protocol proxy", server, "protocol = proxy", []string{`send = "v1"`}, nil, false},
		{"protocol connect", "[s]\nclient = yes\naccept = 127.0.0.1:1\nCAfile = /ca\nverify = 2\n", "connect = proxy.internal:3128\nprotocol = connect\nprotocolHost = db.internal:6380\nprotocolPassword = hunter2",
			[]string{`connect_proxy = "http://proxy.internal:3128"`, `target        = "db.internal:6380"`}, []string{"protocolPassword: not carried (the value is not copied)"}, false},
		{"protocol smtp", client, "protocol = smtp", nil, []string{"protocol: not carried: SMTP STARTTLS"}, false},
		{"PSKsecrets", client, "PSKsecrets = /etc/psk.txt", nil, []string{"SECURITY: PSKsecrets", "passphrase"}, true},
		{"OCSPaia", client, "OCSPaia = yes", nil, []string{"SECURITY: OCSPaia"}, true},
		{"exec", server, "exec = /usr/sbin/pppd", nil, []string{"exec: not carried"}, false},
		{"transparent source", server, "transparent = source", []string{"transparent_source = true"}, nil, false},
		{"sessionCacheTimeout", server, "sessionCacheTimeout = 300", []string{`session_lifetime   = "5m0s"`}, nil, false},
		{"sessionResume", server, "sessionResume = no", []string{"session_resumption = false"}, nil, false},
		{"global in service", server, "setuid = nobody", nil, []string{"a global option in a service section"}, false},
		{"unknown", server, "frobnicate = 1", nil, []string{"SECURITY: frobnicate: unknown option"}, true},
		{"no cert server", "[s]\naccept = 1\nconnect = 2\n", "", []string{"self_signed = true", `client_auth = "none"`}, []string{"built-in default certificate"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expect(t, importText(t, c.base+c.opts+"\n"), c.hcl, c.notes, c.security)
		})
	}
}

// TestStunnelSNIService: `sni = master:host` rides on the master's
// listener with server_names; the master takes unknown names.
func TestStunnelSNIService(t *testing.T) {
	r := importText(t, "[m]\naccept = 443\nconnect = 127.0.0.1:80\ncert = /c\n"+
		"[v]\nsni = m:v.example\nconnect = 127.0.0.1:81\ncert = /c2\n")
	expect(t, r, []string{"sni_default = true", `server_names = ["v.example"]`}, nil, false)
	if strings.Count(squash(r.HCL), `listen = "0.0.0.0:443"`) != 2 {
		t.Errorf("want both tunnels on 0.0.0.0:443:\n%s", r.HCL)
	}
}

// TestStunnelVerifyPeer: verify = 4 pins the certificates of CAfile by
// fingerprint; verify = 3 keeps the chain too; an unreadable file is a
// security note.
func TestStunnelVerifyPeer(t *testing.T) {
	a, err := pkitest.NewAuthority("peer")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "peer.pem")
	if err := os.WriteFile(path, a.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(a.Cert.Raw)
	want := "SHA256:" + strings.ToUpper(strings.Join(strings.Split(fmt.Sprintf("% x", sum[:]), " "), ":"))
	base := "[s]\nclient = yes\naccept = 127.0.0.1:1\nconnect = h:2\nCAfile = " + path + "\n"
	r4 := importText(t, base+"verify = 4\n")
	expect(t, r4, []string{`pin = ["` + want + `"]`}, []string{"pinned by fingerprint"}, false)
	if strings.Contains(r4.HCL, "ca ") {
		t.Errorf("verify = 4 ignores the chain; want no ca:\n%s", r4.HCL)
	}
	expect(t, importText(t, base+"verify = 3\n"), []string{`pin`, `ca `, `verify = "chain"`}, nil, false)
	expect(t, importText(t, "[s]\naccept = 1\nconnect = 2\ncert = /c\nCAfile = /nonexistent.pem\nverifyPeer = yes\n"),
		[]string{`client_auth = "require"`}, []string{"SECURITY: verifyPeer: (verify 3/4) not carried"}, true)
}

// TestStunnelSecretsNotCopied: values of secret options never reach the
// HCL or the notes.
func TestStunnelSecretsNotCopied(t *testing.T) {
	const secret = "s3cret-Value-4711"
	r := importText(t, "[s]\nclient = yes\naccept = 127.0.0.1:1\nconnect = p:3128\nCAfile = /ca\nverify = 2\n"+
		"protocol = connect\nprotocolHost = h:2\nprotocolPassword = "+secret+"\nticketKeySecret = "+secret+
		"\nticketMacSecret = "+secret+"\nunknownSecret = "+secret+"\n")
	if strings.Contains(r.HCL, secret) || strings.Contains(notesText(r), secret) {
		t.Fatalf("a secret value was copied:\n%s\n%s", r.HCL, notesText(r))
	}
}
