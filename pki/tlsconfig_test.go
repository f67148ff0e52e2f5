package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

func TestTunnelErrorNamesFieldFileAndPosition(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "x.crt")
	_, err := ServerTLSConfig(tunnel(config.ModeServer, &config.TLS{Cert: missing, Key: missing}))
	want := `bad.hcl:7:5: tunnel "redis": tls.cert "` + missing + `": no such file or directory`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("error does not wrap fs.ErrNotExist")
	}
}

func TestTunnelErrors(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, key := ca.issueFiles(t, "a", serverSpec())
	_, otherKey := ca.issueFiles(t, "b", serverSpec())
	missing := filepath.Join(t.TempDir(), "nope.pem")
	srv := func(c config.TLS) error { _, err := ServerTLSConfig(tunnel(config.ModeServer, &c)); return err }
	cli := func(c config.TLS, host string) error {
		_, err := ClientTLSConfig(tunnel(config.ModeClient, &c), host)
		return err
	}
	tests := []struct {
		name string
		err  error
		want string // prefix, then a substring after it
		more string
	}{
		{"key mismatch", srv(config.TLS{Cert: cert, Key: otherKey, CA: ca.file}),
			`bad.hcl:8:5: tunnel "redis": tls.key "` + otherKey + `": private key does not match`, cert},
		{"CA missing", srv(config.TLS{Cert: cert, Key: key, CA: missing}),
			`bad.hcl:9:5: tunnel "redis": tls.ca "` + missing + `": no such file`, ""},
		{"require without CA", srv(config.TLS{Cert: cert, Key: key}),
			`bad.hcl:3:1: tunnel "redis": tls.client_auth: "require" needs tls.ca`, ""},
		{"request without CA", srv(config.TLS{Cert: cert, Key: key, ClientAuth: "request"}),
			`bad.hcl:3:1: tunnel "redis": tls.client_auth: "request" needs tls.ca`, ""},
		{"bad client_auth", srv(config.TLS{Cert: cert, Key: key, ClientAuth: "maybe"}),
			`bad.hcl:3:1: tunnel "redis": tls.client_auth: unknown value "maybe"`, ""},
		{"no cert", srv(config.TLS{CA: ca.file}), `bad.hcl:7:5: tunnel "redis": tls.cert: required`, ""},
		{"bad pin", srv(config.TLS{Cert: cert, Key: key, Pin: []string{"SHA256:00"}}),
			`bad.hcl:3:1: tunnel "redis": tls.pin: invalid pin "SHA256:00"`, ""},
		{"self_signed without a Manager", srv(config.TLS{SelfSigned: true}), `tls.self_signed: kept in the state directory: built by pki.Manager`, ""},
		{"unknown curve", srv(config.TLS{Cert: cert, Key: key, Curves: []string{"P-999"}}), `tls.curves: unknown curve "P-999"`,
			"SecP256r1MLKEM768, SecP384r1MLKEM1024"},
		{"insecure suite", srv(config.TLS{Cert: cert, Key: key, CipherSuites: []string{"TLS_RSA_WITH_RC4_128_SHA"}}),
			`tls.cipher_suites: cipher suite "TLS_RSA_WITH_RC4_128_SHA" is insecure`, ""},
		{"unknown suite", srv(config.TLS{Cert: cert, Key: key, CipherSuites: []string{"AES"}}), `tls.cipher_suites: unknown cipher suite "AES"`, ""},
		{"TLS 1.3 suite", srv(config.TLS{Cert: cert, Key: key, MinVersion: "1.3", CipherSuites: []string{"TLS_AES_128_GCM_SHA256"}}),
			`tls.cipher_suites: "TLS_AES_128_GCM_SHA256" is a TLS 1.3 suite; TLS 1.3 suites are not configurable`, ""},
		{"max below min", srv(config.TLS{Cert: cert, Key: key, MinVersion: "1.3", MaxVersion: "1.2"}),
			`tls.max_version: TLS 1.2 is below min_version TLS 1.3`, ""},
		{"max below floor", srv(config.TLS{Cert: cert, Key: key, MaxVersion: "1.1"}), `tls.max_version: invalid TLS version "1.1"; want "1.2" or "1.3"`, ""},
		{"min below floor", srv(config.TLS{Cert: cert, Key: key, MinVersion: "1.0"}), `tls.min_version: invalid TLS version "1.0"`, ""},
		{"unknown version", srv(config.TLS{Cert: cert, Key: key, MinVersion: "2"}), `tls.min_version: invalid TLS version "2"`, ""},
		{"client trusts nothing", cli(config.TLS{}, "db.internal"), `bad.hcl:9:5: tunnel "redis": tls.ca: nothing to verify the server against`, ""},
		{"client no server name", cli(config.TLS{CA: ca.file}, ""), `tls.server_name: the target has no host name`, ""},
		{"client key without cert", cli(config.TLS{Key: key, CA: ca.file}, "db.internal"), `bad.hcl:8:5: tunnel "redis": tls.key: set without tls.cert`, ""},
		{"client cert missing", cli(config.TLS{Cert: missing, CA: ca.file}, "db.internal"), `bad.hcl:7:5: tunnel "redis": tls.cert "` + missing + `"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			msg := tc.err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.more) {
				t.Errorf("error:\n %s\nwant it to contain\n %s\n %s", msg, tc.want, tc.more)
			}
			if !strings.HasPrefix(msg, "bad.hcl:") {
				t.Errorf("error %q does not start with the position", msg)
			}
		})
	}
}

func TestNilTLSBlock(t *testing.T) {
	_, err := ServerTLSConfig(tunnel(config.ModeServer, nil))
	if err == nil || !strings.HasPrefix(err.Error(), `bad.hcl:3:1: tunnel "redis": server mode needs a tls block`) {
		t.Errorf("server: %v", err)
	}
	_, err = ClientTLSConfig(tunnel(config.ModeClient, nil), "db.internal")
	if err == nil || !strings.HasPrefix(err.Error(), `bad.hcl:3:1: tunnel "redis": client mode needs a tls block`) {
		t.Errorf("client: %v", err)
	}
}

func TestErrorWithoutPosition(t *testing.T) {
	tun := &config.Tunnel{Name: "cli", TLS: &config.TLS{}}
	_, err := ServerTLSConfig(tun)
	if err == nil || err.Error() != `tunnel "cli": tls.cert: required in server mode` {
		t.Errorf("error %v", err)
	}
}

func TestVersionsAndFloor(t *testing.T) {
	ca := newTestCA(t, "ca")
	tests := []struct {
		minV, maxV       string
		wantMin, wantMax uint16
	}{
		{"", "", tls.VersionTLS12, tls.VersionTLS13},
		{"1.2", "", tls.VersionTLS12, tls.VersionTLS13},
		{"", "1.2", tls.VersionTLS12, tls.VersionTLS12},
		{"1.3", "1.3", tls.VersionTLS13, tls.VersionTLS13},
	}
	for _, tc := range tests {
		cfg := mustClient(t, &config.TLS{CA: ca.file, MinVersion: tc.minV, MaxVersion: tc.maxV}, "db.internal")
		if cfg.MinVersion != tc.wantMin || cfg.MaxVersion != tc.wantMax {
			t.Errorf("min %q max %q: got %x-%x, want %x-%x", tc.minV, tc.maxV, cfg.MinVersion, cfg.MaxVersion, tc.wantMin, tc.wantMax)
		}
	}
}

// pki reads the names through config's table: case-insensitive suites, and
// every curve name and alias config accepts, hybrids included.
func TestSuitesAndCurvesFromConfigNames(t *testing.T) {
	ca := newTestCA(t, "ca")
	cfg := mustClient(t, &config.TLS{CA: ca.file, CipherSuites: []string{"tls_ecdhe_rsa_with_aes_128_gcm_sha256"}}, "db.internal")
	if len(cfg.CipherSuites) != 1 || cfg.CipherSuites[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("suites %v", cfg.CipherSuites)
	}
	names := []string{"X25519", "X25519MLKEM768", "SecP256r1MLKEM768", "secp384r1mlkem1024",
		"P-256", "prime256v1", "secp384r1", "P-521"}
	want := []tls.CurveID{tls.X25519, tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
		tls.CurveP256, tls.CurveP256, tls.CurveP384, tls.CurveP521}
	cfg = mustClient(t, &config.TLS{CA: ca.file, Curves: names}, "db.internal")
	if !slices.Equal(cfg.CurvePreferences, want) {
		t.Errorf("curves %v, want %v", cfg.CurvePreferences, want)
	}
}

func TestSystemRootsPoolIsUnion(t *testing.T) {
	ca := newTestCA(t, "ca")
	want, err := x509.SystemCertPool()
	if err != nil {
		t.Skipf("no system trust store: %v", err)
	}
	want.AddCert(ca.Cert)
	got, err := clientRoots(tunnel(config.ModeClient, &config.TLS{CA: ca.file, SystemRoots: true}))
	if err != nil || !got.Equal(want) {
		t.Errorf("the roots are not the system store plus tls.ca (%v)", err)
	}
}

func TestClientServerNameFromTarget(t *testing.T) {
	ca := newTestCA(t, "ca")
	for target, want := range map[string]string{"[::1]": "::1", "fe80::1%eth0": "fe80::1", "db.internal": "db.internal"} {
		if got := mustClient(t, &config.TLS{CA: ca.file}, target).ServerName; got != want {
			t.Errorf("target %q: ServerName %q, want %q", target, got, want)
		}
	}
	if got := mustClient(t, &config.TLS{CA: ca.file, ServerName: "x.internal"}, "db.internal").ServerName; got != "x.internal" {
		t.Errorf("tls.server_name ignored: ServerName %q", got)
	}
}

func TestVerifyHost(t *testing.T) {
	tests := map[string]string{
		"db.internal": "db.internal", "db.internal:5432": "db.internal", "127.0.0.1": "127.0.0.1",
		"::1": "::1", "[::1]": "::1", "[::1]:443": "::1", "fe80::1%eth0": "fe80::1", "": "",
	}
	for in, want := range tests {
		if got := verifyHost(in); got != want {
			t.Errorf("verifyHost(%q) = %q, want %q", in, got, want)
		}
	}
}
