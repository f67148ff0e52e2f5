//go:build unix

package pki

import (
	"crypto/tls"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

// A CA bundle that others could change is refused at the first load, by
// the Manager and by the package functions alike, naming field, file and
// mode.
func TestUnsafeCARefusedAtLoad(t *testing.T) {
	srvCA, cliCA := newTestCA(t, "server-ca"), newTestCA(t, "client-ca")
	cert, key := srvCA.issueFiles(t, "server", serverSpec())
	if err := os.Chmod(cliCA.file, 0o666); err != nil {
		t.Fatal(err)
	}
	want := `bad.hcl:9:5: tunnel "redis": tls.ca: ` + cliCA.file +
		" is writable by group and others (mode 0666): anyone who can change it decides whom this tunnel trusts; chmod go-w it"
	m, _ := reloadManager(t, time.Hour, true)
	if _, err := m.ServerTLSConfig(serverTunnel(cert, key, cliCA.file)); err == nil || err.Error() != want {
		t.Errorf("Manager: got %v\nwant %s", err, want)
	}
	if _, err := ServerTLSConfig(serverTunnel(cert, key, cliCA.file)); err == nil || err.Error() != want {
		t.Errorf("ServerTLSConfig: got %v\nwant %s", err, want)
	}
	if _, err := ClientTLSConfig(tunnel(config.ModeClient, &config.TLS{CA: cliCA.file}), "db.internal"); err == nil || err.Error() != want {
		t.Errorf("ClientTLSConfig: got %v\nwant %s", err, want)
	}
}

// A CA bundle made writable by others and rewritten while it is in use is
// refused like a file that does not parse: the last good pool stays, the
// refusal is logged with the file and its mode and counted as a failure.
func TestUnsafeCARefusedAtReload(t *testing.T) {
	srvCA, caA, caB := newTestCA(t, "server-ca"), newTestCA(t, "clients-a"), newTestCA(t, "clients-b")
	cert, key := srvCA.issueFiles(t, "server", serverSpec())
	bundle := writeFile(t, "clients.crt", caA.CertPEM())
	m, logs := reloadManager(t, time.Hour, true)
	srv, err := m.ServerTLSConfig(serverTunnel(cert, key, bundle))
	if err != nil {
		t.Fatal(err)
	}
	client := func(ca testCA, cn string) *tls.Config {
		cli := mustClient(t, &config.TLS{CA: srvCA.file}, "127.0.0.1")
		cli.Certificates = []tls.Certificate{issueCert(t, ca, clientSpec(cn))}
		return cli
	}
	cliA, cliB := client(caA, "a"), client(caB, "b")
	if err := os.Chmod(bundle, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle, caB.CertPEM(), 0o666); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, reloadWait, "the refusal logged", func() bool {
		return strings.Contains(logs.String(), "certificate reload failed")
	})
	line := logs.String()
	for _, s := range []string{"level=WARN", "file=" + bundle, "is writable by group and others (mode 0666)"} {
		if !strings.Contains(line, s) {
			t.Errorf("reload log lacks %q:\n%s", s, line)
		}
	}
	if r := handshake(t, srv, cliA); !r.ok() {
		t.Errorf("client of the last good CA refused: server %v", r.serverErr)
	}
	if r := handshake(t, srv, cliB); r.ok() {
		t.Error("client of the CA planted in a file writable by all accepted")
	}
	if got := m.ReloadStats()["redis"]; got.Failed != 1 || got.OK != 0 {
		t.Errorf("reload counts %+v, want one failure", got)
	}
}

// A private key readable by others is warned about once per file, however
// many tunnels use it.
func TestKeyModeWarnedOnce(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, key := ca.issueFiles(t, "server", serverSpec())
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	m, logs := reloadManager(t, time.Hour, true)
	for _, name := range []string{"a", "b"} {
		tun := serverTunnel(cert, key, "")
		tun.Name = name
		if _, err := m.ServerTLSConfig(tun); err != nil {
			t.Fatal(err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "private key is readable by group or others"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, out)
	}
	for _, s := range []string{"level=WARN", "file=" + key, "mode=0644", "tunnel=a"} {
		if !strings.Contains(out, s) {
			t.Errorf("warning lacks %q:\n%s", s, out)
		}
	}
}
