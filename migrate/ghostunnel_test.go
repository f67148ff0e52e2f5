package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func importArgs(t *testing.T, args ...string) Result {
	t.Helper()
	r, err := ImportGhostunnel(args)
	if err != nil {
		t.Fatalf("ImportGhostunnel(%q): %v", args, err)
	}
	return r
}

// TestGhostunnelFlags: one flag (or a few) at a time on a server or a
// client command line: the HCL fragment, or the note.
func TestGhostunnelFlags(t *testing.T) {
	server := []string{"server", "--listen", "0.0.0.0:8443", "--target=127.0.0.1:8080", "--cert", "/s.crt", "--key", "/s.key", "--cacert", "/ca.crt"}
	client := []string{"client", "--listen", "127.0.0.1:8080", "--target", "db.internal:8443", "--cert", "/c.crt", "--key", "/c.key", "--cacert", "/ca.crt"}
	cases := []struct {
		name     string
		base     []string
		args     []string
		hcl      []string
		notes    []string
		security bool
	}{
		{"server", server, []string{"--allow-all"}, []string{`tunnel "server"`, `mode = "server"`, `listen = "0.0.0.0:8443"`,
			`target = "127.0.0.1:8080"`, `cert = "/s.crt"`, `key = "/s.key"`, `ca = "/ca.crt"`}, nil, false},
		{"no allow flag", server, nil, nil, []string{"SECURITY: --allow-*"}, true},
		{"allow lists", server, []string{"--allow-cn", "a", "--allow-cn=b", "--allow-ou", "ops", "--allow-dns", "*.x", "--allow-uri", "spiffe://d/*"},
			[]string{`cn = ["a", "b"]`, `ou = ["ops"]`, `dns = ["*.x"]`, `uri = ["spiffe://d/*"]`}, nil, false},
		{"client", client, nil, []string{`mode = "client"`, `target = "db.internal:8443"`, `ca = "/ca.crt"`}, nil, false},
		{"client no cacert", []string{"client", "--listen", "127.0.0.1:1", "--target", "h:2"}, nil, []string{"system_roots = true"}, nil, false},
		{"verify lists", client, []string{"--verify-cn", "db", "--verify-dns", "db.internal", "--verify-uri", "spiffe://d/db", "--verify-ou", "x"},
			[]string{`cn = ["db"]`, `dns = ["db.internal"]`, `uri = ["spiffe://d/db"]`, `ou = ["x"]`}, nil, false},
		{"override server name", client, []string{"--override-server-name", "db.example"}, []string{`server_name = "db.example"`}, nil, false},
		{"unsafe listen", client, []string{"--unsafe-listen"}, []string{"unsafe_listen = true"}, nil, false},
		{"unsafe target", server, []string{"--allow-all", "--unsafe-target"}, nil, []string{"--unsafe-target: not carried"}, false},
		{"disable auth server", server, []string{"--disable-authentication"}, []string{`client_auth = "none"`}, []string{"anyone who reaches the port"}, false},
		{"timeouts", server, []string{"--allow-all", "--connect-timeout", "3s", "--max-conn-lifetime=1h", "--shutdown-timeout", "20s"},
			[]string{`connect_timeout = "3s"`, `max_lifetime = "1h"`, `drain_timeout = "20s"`}, nil, false},
		{"close timeout", server, []string{"--allow-all", "--close-timeout", "1s"}, []string{`close_timeout = "1s"`}, nil, false},
		{"close timeout 0", server, []string{"--allow-all", "--close-timeout", "0s"}, nil, []string{"--close-timeout: not carried"}, false},
		{"max conns", server, []string{"--allow-all", "--max-concurrent-conns", "100"}, []string{"max_connections = 100"}, nil, false},
		{"status", server, []string{"--allow-all", "--status", "localhost:6060"}, []string{`admin = "localhost:6060"`}, nil, false},
		{"metrics", server, []string{"--allow-all", "--metrics-graphite", "g:2003"}, nil, []string{"--metrics-graphite: not carried"}, false},
		{"proxy protocol", server, []string{"--allow-all", "--proxy-protocol"}, []string{`send = "v2"`}, nil, false},
		{"proxy protocol tls", server, []string{"--allow-all", "--proxy-protocol-mode", "tls"}, []string{`send = "v2"`, "tls_tlvs = true"}, nil, false},
		{"workload api", []string{"server", "--listen", ":8443", "--target", "127.0.0.1:1", "--use-workload-api-addr", "unix:///run/spire.sock", "--allow-all"}, nil,
			[]string{`socket = "unix:///run/spire.sock"`}, nil, false},
		{"connect proxy", client, []string{"--connect-proxy", "http://proxy:3128"}, []string{`connect_proxy = "http://proxy:3128"`}, nil, false},
		{"acme", []string{"server", "--listen", ":443", "--target", "127.0.0.1:1", "--cacert", "/ca", "--allow-all",
			"--auto-acme-cert", "a.example", "--auto-acme-email", "o@a.example", "--auto-acme-agree-to-tos", "--auto-acme-testca", "https://acme.test/dir"},
			nil, []string{`domains = ["a.example"]`, `email = "o@a.example"`, `ca = "https://acme.test/dir"`}, []string{"subscriber agreement"}, false},
		{"pprof", server, []string{"--allow-all", "--enable-pprof"}, nil, []string{"--enable-pprof: not carried"}, false},
		{"policy", server, []string{"--allow-policy", "/p.rego"}, nil, []string{"SECURITY: --allow-policy"}, true},
		{"client flag on server", server, []string{"--allow-all", "--verify-cn", "x"}, nil, []string{"a client flag, ignored in server mode"}, false},
		{"unknown", server, []string{"--allow-all", "--frobnicate", "x"}, nil, []string{"SECURITY: --frobnicate: unknown flag"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{}, c.base...), c.args...)
			expect(t, importArgs(t, args...), c.hcl, c.notes, c.security)
		})
	}
}

// TestGhostunnelKeystore: a PEM bundle becomes tls.cert, anything else
// tls.pkcs12; the store password is never copied anywhere.
func TestGhostunnelKeystore(t *testing.T) {
	const pass = "st0rE-pass-8815"
	pemPath := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(pemPath, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := importArgs(t, "ghostunnel", "client", "--listen", "127.0.0.1:1", "--target", "h:2", "--keystore", pemPath, "--storepass", pass)
	expect(t, r, []string{`cert = "` + pemPath + `"`, `key_passphrase = env("PASSTUNNEL_KEY_PASSPHRASE")`}, []string{"the value is not copied"}, false)
	r2 := importArgs(t, "client", "--listen", "127.0.0.1:1", "--target", "h:2", "--keystore=/etc/id.p12", "--storepass="+pass,
		"--connect-proxy", "http://user:"+pass+"@proxy:3128", "--pkcs11-pin", pass)
	expect(t, r2, []string{`pkcs12 = "/etc/id.p12"`, `connect_proxy = env("HTTPS_PROXY")`}, nil, false)
	for _, res := range []Result{r, r2} {
		if strings.Contains(res.HCL, pass) || strings.Contains(notesText(res), pass) {
			t.Fatalf("the store password was copied:\n%s\n%s", res.HCL, notesText(res))
		}
	}
}

func TestGhostunnelBadArgs(t *testing.T) {
	for _, args := range [][]string{nil, {"--listen", ":1"}, {"server", "stray"}, {"server", "--listen"}} {
		if _, err := ImportGhostunnel(args); err == nil {
			t.Errorf("ImportGhostunnel(%q): no error", args)
		}
	}
}

// TestGhostunnelHeaderOneLine: an argument with a newline cannot end the
// header comment and inject HCL.
func TestGhostunnelHeaderOneLine(t *testing.T) {
	r := importArgs(t, "server", "--listen", ":1", "--target", "127.0.0.1:2", "--cacert", "/ca", "--allow-all", "--allow-cn", "x\nadmin = \"0.0.0.0:1\"")
	if strings.Contains(r.HCL, "\nadmin") {
		t.Fatalf("a newline in an argument reached the HCL as a line:\n%s", r.HCL)
	}
}
