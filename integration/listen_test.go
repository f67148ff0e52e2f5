package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientListenBeyondLoopback: a client tunnel lends this node's
// identity to whoever connects, so listening beyond loopback is refused by
// check and run (HCL and flags) unless unsafe_listen says so, which warns
// at start; a server tunnel cannot set it.
func TestClientListenBeyondLoopback(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	exposed := f.clientTun("cli", "0.0.0.0:0", "127.0.0.1:1")
	path := writeFile(t, t.TempDir(), "exposed.hcl", []byte(configText(exposed)))
	expectRefusal(t, path, fmt.Sprintf(`%s:6:3: tunnel "cli": listen: "0.0.0.0:0" is not a loopback address: `+
		"a client tunnel lends this node's identity to anyone who connects to it; listen on 127.0.0.1, [::1] or a unix:/path socket, "+
		"or set unsafe_listen = true if everyone who can reach it may act as this node", path))

	allowed := withLines(exposed.hcl(), "  unsafe_listen = true\n")
	p := runText(t, configBlocks(allowed), nil)
	p.listenAddr(t, "cli")
	p.mustLog(t, startTimeout, "the unsafe_listen warning", unsafeListenWarning("cli"))

	server := withLines(f.serverTun("srv", "127.0.0.1:0", "127.0.0.1:1").hcl(), "  unsafe_listen = true\n")
	spath := writeFile(t, t.TempDir(), "server.hcl", []byte(configBlocks(server)))
	expectRefusal(t, spath, `tunnel "srv": unsafe_listen: only meaningful in client mode`)

	flags := []string{"client", "--listen", "[::]:0", "--target", "127.0.0.1:1", "--ca", f.caA}
	c := startProc(t, binPath, flags, procOpts{})
	if code := c.mustExit(t, startTimeout); code != 1 ||
		!strings.Contains(c.stderr.String(), `flag --listen: "[::]:0" is not a loopback address`) {
		t.Errorf("client --listen [::]:0: exit %d, want 1 naming the flag:\n%s", code, c.stderr.String())
	}
	ok := startFlags(t, append(flags, "--unsafe-listen")...)
	ok.listenAddr(t, "")
	ok.mustLog(t, startTimeout, "the unsafe_listen warning", unsafeListenWarning("client"))
}

func unsafeListenWarning(tunnel string) func(logEntry) bool {
	return func(e logEntry) bool {
		return e.str("level") == "WARN" && e.str("tunnel") == tunnel &&
			strings.HasPrefix(e.str("msg"), "client tunnel listens beyond loopback (unsafe_listen)")
	}
}

// TestUnixSocketModes: whatever the umask (0 here, so that bind alone
// would make a socket anyone may connect to), a tunnel's unix socket is
// exactly 0660, or its listen_mode, and so is the admin socket.
func TestUnixSocketModes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := shortTempDir(t)
	text := logSettings + fmt.Sprintf("admin = %q\n\n", sock(dir, "admin.sock")) +
		configText(f.clientTun("dflt", sock(dir, "d.sock"), "127.0.0.1:1"))[len(logSettings):] +
		withLines(f.clientTun("tight", sock(dir, "t.sock"), "127.0.0.1:1").hcl(), "  listen_mode = \"0600\"\n")
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	p := startProc(t, "/bin/sh", []string{"-c", `umask 0 && exec "$0" "$@"`, binPath, "run", "-config", path}, procOpts{})
	p.listenAddr(t, "dflt")
	p.listenAddr(t, "tight")
	p.adminAddr(t, 0)
	for name, want := range map[string]os.FileMode{"d.sock": 0o660, "t.sock": 0o600, "admin.sock": 0o660} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", name, got, want)
		}
	}

	tcp := withLines(f.clientTun("tcp", "127.0.0.1:0", "127.0.0.1:1").hcl(), "  listen_mode = \"0600\"\n")
	tpath := writeFile(t, t.TempDir(), "tcp.hcl", []byte(configBlocks(tcp)))
	expectRefusal(t, tpath, `tunnel "tcp": listen_mode: only for a unix:/path listen address; "127.0.0.1:0" is host:port`)
}
