package pki

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/internal/testwait"
)

func TestReloadKubernetesSecretSwap(t *testing.T) {
	ca := newTestCA(t, "k8s")
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	dir := testfs.NewK8sDir(t, map[string][]byte{"tls.crt": a.cert, "tls.key": a.key})
	m, logs := reloadManager(t, time.Hour, true)
	e, err := m.Server(serverTunnel(dir.Path("tls.crt"), dir.Path("tls.key"), ""))
	if err != nil {
		t.Fatal(err)
	}
	srv := e.Config
	if got := served(t, srv, ca); got != a.fp {
		t.Fatalf("served %s, want the first pair %s", got, a.fp)
	}
	dir.Update(t, map[string][]byte{"tls.crt": b.cert, "tls.key": b.key})
	waitServed(t, srv, ca, b.fp)
	if got, err := e.Expiry(); err != nil || !got.Equal(b.notAfter) {
		t.Errorf("Expiry = %v, %v, want %v", got, err, b.notAfter)
	}
	if s := m.ReloadStats()["redis"]; s.OK != 1 || s.Failed != 0 {
		t.Errorf("ReloadStats = %+v, want one ok", s)
	}
	// The pair in use is named at start and at each reload: subject,
	// issuer, fingerprint, expiry.
	for _, want := range []struct {
		msg  string
		pair pemPair
	}{{"certificate loaded", a}, {"certificate reloaded", b}} {
		line := lineWith(logs.String(), want.msg)
		for _, field := range []string{"subject=", "issuer=", "fingerprint=" + want.pair.fp,
			"not_after=" + want.pair.notAfter.UTC().Format(time.RFC3339), "file=" + dir.Path("tls.crt")} {
			if !strings.Contains(line, field) {
				t.Errorf("%s line %q lacks %s", want.msg, line, field)
			}
		}
	}
}

// lineWith is the first line of logs that contains s, "" for none.
func lineWith(logs, s string) string {
	for l := range strings.Lines(logs) {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestReloadEditorRenameOver(t *testing.T) {
	ca := newTestCA(t, "editor")
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	// One combined file (key in the cert file), replaced in one rename.
	file := writeFile(t, "combined.pem", append(a.cert, a.key...))
	m, _ := reloadManager(t, time.Hour, true)
	srv, err := m.ServerTLSConfig(serverTunnel(file, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	testfs.RenameOver(t, file, append(b.cert, b.key...))
	waitServed(t, srv, ca, b.fp)
}

// A rotation that writes the certificate well before its key: the new
// certificate is not used with the old key, the mismatch is reported once
// it persists, and the new pair is used when the key arrives.
func TestReloadCertBeforeKey(t *testing.T) {
	ca := newTestCA(t, "split")
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	cert, key := pairFiles(t, a)
	m, logs := reloadManager(t, time.Hour, true)
	srv, err := m.ServerTLSConfig(serverTunnel(cert, key, ""))
	if err != nil {
		t.Fatal(err)
	}
	testfs.RenameOver(t, cert, b.cert)
	testwait.Until(t, reloadWait, "the mismatch counted", func() bool { return m.ReloadStats()["redis"].Failed == 1 })
	if got := served(t, srv, ca); got != a.fp {
		t.Fatalf("served %s with a mismatched key file, want the last good pair %s", got, a.fp)
	}
	if l := logs.String(); !strings.Contains(l, "certificate reload failed") || !strings.Contains(l, "does not match") {
		t.Errorf("no failure line naming the mismatch in:\n%s", l)
	}
	testfs.RenameOver(t, key, b.key)
	waitServed(t, srv, ca, b.fp)
	if s := m.ReloadStats()["redis"]; s.OK != 1 || s.Failed != 1 {
		t.Errorf("ReloadStats = %+v, want one ok and one failed", s)
	}
}

// A file that does not parse, or that disappears, keeps the last good pair;
// the failure is logged and counted once, not on every retry, and a good
// file later is picked up.
func TestReloadBadFileKeepsLastGoodPair(t *testing.T) {
	ca := newTestCA(t, "broken")
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	cert, key := pairFiles(t, a)
	m, logs := reloadManager(t, 20*time.Millisecond, true)
	srv, err := m.ServerTLSConfig(serverTunnel(cert, key, ""))
	if err != nil {
		t.Fatal(err)
	}
	testfs.RenameOver(t, cert, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"))
	testwait.Until(t, reloadWait, "the bad file counted", func() bool { return m.ReloadStats()["redis"].Failed == 1 })
	if got := served(t, srv, ca); got != a.fp {
		t.Fatalf("served %s after a bad file, want the last good pair %s", got, a.fp)
	}
	if err := os.Remove(cert); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, reloadWait, "the missing file counted", func() bool { return m.ReloadStats()["redis"].Failed == 2 })
	if got := served(t, srv, ca); got != a.fp {
		t.Fatalf("served %s after the file disappeared, want the last good pair %s", got, a.fp)
	}
	// Retries (ticks every 20 ms, and these) re-read the same missing
	// file: not a new failure.
	for range 3 {
		m.reload.checkAll()
	}
	if s := m.ReloadStats()["redis"]; s.Failed != 2 {
		t.Errorf("Failed = %d after retries of the same missing file, want 2", s.Failed)
	}
	l := logs.String()
	if strings.Count(l, "certificate reload failed") != 2 || !strings.Contains(l, "no such file") {
		t.Errorf("want two failure lines, one naming the missing file, in:\n%s", l)
	}
	if strings.Contains(l, "PRIVATE KEY") {
		t.Errorf("key material in the log:\n%s", l)
	}
	testfs.RenameOver(t, key, b.key)
	testfs.RenameOver(t, cert, b.cert)
	waitServed(t, srv, ca, b.fp)
}

// With no file events at all (NFS and the like), the periodic re-check
// alone picks a new pair up.
func TestReloadPeriodicWithoutEvents(t *testing.T) {
	ca := newTestCA(t, "poll")
	a, b := ca.issuePEM(t, serverSpec()), ca.issuePEM(t, serverSpec())
	dir := testfs.NewK8sDir(t, map[string][]byte{"tls.crt": a.cert, "tls.key": a.key})
	m, _ := reloadManager(t, 50*time.Millisecond, false)
	srv, err := m.ServerTLSConfig(serverTunnel(dir.Path("tls.crt"), dir.Path("tls.key"), ""))
	if err != nil {
		t.Fatal(err)
	}
	if m.reload.w.Events() {
		t.Fatal("file events are on; this test is about the re-check alone")
	}
	dir.Update(t, map[string][]byte{"tls.crt": b.cert, "tls.key": b.key})
	waitServed(t, srv, ca, b.fp)
}

// A negative interval turns hot reload off: the config is the static one.
func TestReloadOff(t *testing.T) {
	ca := newTestCA(t, "off")
	cert, key := ca.issueFiles(t, "server", serverSpec())
	m, _ := reloadManager(t, -1, true)
	srv, err := m.ServerTLSConfig(serverTunnel(cert, key, ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.Certificates) != 1 || srv.GetCertificate != nil || m.reload.w != nil {
		t.Errorf("hot reload off, yet the config follows files (or a watcher runs)")
	}
}
