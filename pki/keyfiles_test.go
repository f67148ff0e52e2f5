package pki

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func TestWriteKeyPairRoundTrip(t *testing.T) {
	a, err := pkitest.NewAuthority("ca")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := a.Issue(pkitest.LeafSpec{CommonName: "x", Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath, err := WriteKeyPair(dir, "tls", kp)
	if err != nil {
		t.Fatal(err)
	}
	if certPath != dir+"/tls.crt" || keyPath != dir+"/tls.key" {
		t.Errorf("paths %s %s", certPath, keyPath)
	}
	for path, want := range map[string]os.FileMode{certPath: 0o644, keyPath: 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
	if !strings.HasPrefix(string(readTestFile(t, keyPath)), "-----BEGIN PRIVATE KEY-----") {
		t.Error("key is not PKCS#8 PEM")
	}
	back, err := LoadKeyPair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Leaf.Equal(kp.Leaf) {
		t.Error("certificate changed on the round trip")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in dir, want 2 (temporary files left?)", len(entries))
	}
}
