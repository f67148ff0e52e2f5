//go:build unix

package proxy

import (
	"io/fs"
	"os"
	"testing"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func socketPerm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// A unix listen socket has exactly its mode, 0660 unless told otherwise,
// and a reload that changes listen_mode changes it in place.
func TestUnixListenMode(t *testing.T) {
	p := pkitest.NewPKI(t)
	path := sockPath(t, "m.sock")
	opts := Options{Name: "sock", Mode: ModeServer, Listen: unixAddr(path),
		Target: tcpAddr("127.0.0.1:1"), Limits: testLimits(), TLS: p.ServerTLS(t)}
	tun, logs := startTunnel(t, opts)
	if got := socketPerm(t, path); got != 0o660 {
		t.Fatalf("socket mode %04o, want 0660", got)
	}
	opts.ListenMode = 0o600
	if err := tun.Update(opts); err != nil {
		t.Fatal(err)
	}
	logs.waitLine(t, "tunnel updated")
	if got := socketPerm(t, path); got != 0o600 {
		t.Fatalf("socket mode %04o after the update, want 0600", got)
	}

	ln, err := ListenAddress(unixAddr(sockPath(t, "admin.sock")))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := socketPerm(t, ln.Addr().String()); got != 0o660 {
		t.Errorf("admin socket mode %04o, want 0660", got)
	}
}
