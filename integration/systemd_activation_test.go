package integration

import (
	"bufio"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// startActivated runs `passtunnel run` on the config file as systemd does
// a socket-activated service: the socket ln as fd 3, LISTEN_FDS=1,
// LISTEN_FDNAMES=name, and LISTEN_PID the service's own pid, which the
// shell knows ($$) and keeps across exec.
func startActivated(t *testing.T, config string, ln *net.TCPListener, name string) *proc {
	t.Helper()
	file, err := ln.File()
	if err != nil {
		t.Fatalf("listener file: %v", err)
	}
	defer file.Close() // the child has its own
	args := []string{"-c", `LISTEN_PID=$$ exec "$0" "$@"`, binPath, "run", "-config", config}
	return startProc(t, "/bin/sh", args, procOpts{env: []string{"LISTEN_FDS=1", "LISTEN_FDNAMES=" + name},
		files: []*os.File{file}})
}

// TestSystemdSocketActivation serves a tunnel on a socket it did not bind:
// listen = "systemd:redis" takes the socket passed as "redis", a reload
// that replaces the tunnel keeps serving it, and a name systemd did not
// pass stops the start with an error naming it and the names passed.
func TestSystemdSocketActivation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	text := configText(f.serverTun("svc", "systemd:redis", be.addr))
	config := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	p := startActivated(t, config, ln, "redis")
	ln.Close() // from now on only passtunnel holds the socket
	if got := p.listenAddr(t, "svc"); got != addr {
		t.Fatalf("tunnel listens on %s, want the passed socket %s", got, addr)
	}
	tlsEcho := func(line string) {
		c := dialTLS(t, addr, f.clientTLS(f.client))
		roundTrip(t, c, bufio.NewReader(c), line, line)
		c.Close()
	}
	tlsEcho("through the passed socket")

	// Renamed: the reload removes svc and adds svc2, on the same socket.
	writeFile(t, "", config, []byte(strings.Replace(text, `tunnel "svc"`, `tunnel "svc2"`, 1)))
	p.signal(t, syscall.SIGHUP)
	if e := p.mustLog(t, reloadTimeout, "config reloaded", logMatch("config reloaded")); e.num("added") != 1 || e.num("removed") != 1 {
		t.Fatalf("reload: %v, want svc removed and svc2 added", e)
	}
	if got := p.listenAddr(t, "svc2"); got != addr {
		t.Fatalf("svc2 listens on %s, want %s", got, addr)
	}
	tlsEcho("after a reload replaced the tunnel")

	ln2, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	other := writeFile(t, t.TempDir(), "other.hcl",
		[]byte(configText(f.serverTun("svc", "systemd:other", be.addr))))
	bad := startActivated(t, other, ln2, "redis")
	if code := bad.mustExit(t, startTimeout); code == 0 {
		t.Fatal("started without the socket its listen names")
	}
	want := `tunnel "svc": listen: systemd passed no socket named "other" (passed: redis)`
	if !strings.Contains(bad.stderr.String(), other+":6:3: "+want) {
		t.Errorf("stderr lacks %q at the listen line:\n%s", want, bad.stderr.String())
	}
}
