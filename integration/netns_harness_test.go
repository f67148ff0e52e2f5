package integration

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The netns harness: hosts as network namespaces on one bridge, for tests
// that need several machines, firewall rules or routes. The bridge lives
// in a namespace of its own and every address (10.77.0.N/24, fd77::N/64)
// exists only inside the lab, so nothing touches the host's namespace;
// names are unique per lab, so labs run in parallel; everything is
// removed when the test ends, failed or not.
//
//	lab := newNetLab(t, 2)          // skips (or fails under PASSTUNNEL_REQUIRE_PEERS) without root and ip
//	a, b := lab.hosts[0], lab.hosts[1]
//	b.serve(t, b.addr(2552), echo)  // an in-test server inside host b
//	p, path := a.runPasstunnel(t, text, procOpts{})  // `passtunnel run` inside host a
//	a.run(t, binPath, "rules", "-config", path, "-apply")
//	c := a.dial(t, b.addr(2552))    // a connection made from inside host a

// netCmdTimeout bounds one ip, nft or iptables command.
const netCmdTimeout = 20 * time.Second

// netLab is a set of hosts on one bridge.
type netLab struct {
	id     string // unique prefix of the lab's namespaces
	bridge string // the namespace holding the bridge
	hosts  []*netHost
}

// netHost is one host of a lab: a network namespace with lo up and one
// interface, eth0, on the lab's bridge.
type netHost struct {
	ns  string // namespace name, for ip netns exec and ip -n
	ip  string // 10.77.0.N
	ip6 string // fd77::N
}

// needNetns skips (or fails) a test that cannot make namespaces: it takes
// root and ip(8).
func needNetns(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespaces need root (the CI runs tests as root)")
	}
	needProgram(t, "ip")
}

// newNetLab makes n hosts, 10.77.0.1 to 10.77.0.n (fd77::1 to fd77::n).
func newNetLab(t testing.TB, n int) *netLab {
	t.Helper()
	needNetns(t)
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	l := &netLab{id: "pt" + hex.EncodeToString(b)}
	l.bridge = l.id + "-br"
	t.Cleanup(func() { l.remove(t) }) // first in, last out: after the processes
	if err := netCmd("ip", "netns", "add", l.bridge); err != nil {
		skipOrFail(t, "cannot make a network namespace (a container without CAP_SYS_ADMIN?): %v", err)
	}
	l.must(t, "ip", "-n", l.bridge, "link", "set", "lo", "up")
	l.must(t, "ip", "-n", l.bridge, "link", "add", "br0", "type", "bridge")
	l.must(t, "ip", "-n", l.bridge, "link", "set", "br0", "up")
	for i := 1; i <= n; i++ {
		h := &netHost{ns: fmt.Sprintf("%s-h%d", l.id, i), ip: fmt.Sprintf("10.77.0.%d", i), ip6: fmt.Sprintf("fd77::%d", i)}
		l.hosts = append(l.hosts, h)
		veth := fmt.Sprintf("v%d", i)
		l.must(t, "ip", "netns", "add", h.ns)
		// Both ends are made inside the lab: the pair never exists in
		// the host's namespace.
		l.must(t, "ip", "-n", l.bridge, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
		l.must(t, "ip", "-n", l.bridge, "link", "set", veth, "master", "br0", "up")
		l.must(t, "ip", "-n", h.ns, "addr", "add", h.ip+"/24", "dev", "eth0")
		l.must(t, "ip", "-n", h.ns, "addr", "add", h.ip6+"/64", "dev", "eth0", "nodad")
		l.must(t, "ip", "-n", h.ns, "link", "set", "eth0", "up")
		l.must(t, "ip", "-n", h.ns, "link", "set", "lo", "up")
	}
	return l
}

// netCmd runs one command within netCmdTimeout.
func netCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.WaitDelay = time.Second
	done := time.AfterFunc(netCmdTimeout, func() { _ = cmd.Process.Kill() })
	defer done.Stop()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (l *netLab) must(t testing.TB, name string, args ...string) {
	t.Helper()
	if err := netCmd(name, args...); err != nil {
		t.Fatal(err)
	}
}

// remove deletes the lab's namespaces; their interfaces go with them.
func (l *netLab) remove(t testing.TB) {
	for _, h := range l.hosts {
		l.removeNS(t, h.ns)
	}
	l.removeNS(t, l.bridge)
}

func (l *netLab) removeNS(t testing.TB, ns string) {
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
		return // never made
	}
	if err := netCmd("ip", "netns", "del", ns); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// addr is host:port of the host's IPv4 address.
func (h *netHost) addr(port int) string { return fmt.Sprintf("%s:%d", h.ip, port) }

// start runs a program inside the host, tracked like every test process
// (killed and reaped at the end, output scanned for secrets). With
// opts.user it runs as that user, without capabilities: setpriv drops
// root after ip entered the namespace, which takes root.
func (h *netHost) start(t testing.TB, name string, args []string, opts procOpts) *proc {
	t.Helper()
	argv := append([]string{"netns", "exec", h.ns}, name)
	if u := opts.user; u != nil {
		setpriv := needProgram(t, "setpriv")
		argv = append([]string{"netns", "exec", h.ns, setpriv, fmt.Sprintf("--reuid=%d", u.Uid), fmt.Sprintf("--regid=%d", u.Gid),
			"--clear-groups", "--inh-caps=-all", "--"}, name)
		opts.user = nil
	}
	p := startProc(t, "ip", append(argv, args...), opts)
	p.label = filepath.Base(name) + "@" + h.ns + strings.TrimPrefix(p.label, "ip")
	return p
}

// run runs a program inside the host to completion; it must succeed.
func (h *netHost) run(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	return h.runWith(t, procOpts{}, name, args...)
}

// runWith is run with procOpts (an environment, a user).
func (h *netHost) runWith(t testing.TB, opts procOpts, name string, args ...string) *proc {
	t.Helper()
	p := h.start(t, name, args, opts)
	if code := p.mustExit(t, netCmdTimeout); code != 0 {
		t.Fatalf("%s %s: exit code %d\nstdout: %s\nstderr: %s", p.label, strings.Join(args, " "),
			code, p.stdout.String(), p.stderr.String())
	}
	return p
}

// runPasstunnel writes text as a config file and runs `passtunnel run` on
// it inside the host; path is the file, for `passtunnel rules` on it.
func (h *netHost) runPasstunnel(t testing.TB, text string, opts procOpts) (p *proc, path string) {
	t.Helper()
	path = writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	return h.start(t, binPath, []string{"run", "-config", path}, opts), path
}

// inside runs fn on an OS thread that entered the host's namespace. A
// socket fn makes belongs to the namespace for its whole life, whichever
// thread uses it later. The thread is never given back to the runtime
// (it ends with its goroutine), so no other goroutine runs in the host.
func (h *netHost) inside(t testing.TB, fn func()) {
	t.Helper()
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // no Unlock: the thread stays in the namespace and exits
		f, ferr := os.Open(filepath.Join("/run/netns", h.ns))
		if ferr != nil {
			err = ferr
			return
		}
		defer f.Close()
		if err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			err = fmt.Errorf("setns %s: %w", h.ns, err)
			return
		}
		fn()
	}()
	<-done
	if err != nil {
		t.Fatal(err)
	}
}

// listen makes a TCP listener inside the host.
func (h *netHost) listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	h.inside(t, func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("%s: listen %s: %v", h.ns, addr, err)
	}
	return ln
}

// serve serves handler on addr inside the host until the test ends.
func (h *netHost) serve(t testing.TB, addr string, handler func(net.Conn)) *backend {
	t.Helper()
	return serveBackend(t, h.listen(t, addr), handler)
}

// tryDial connects from inside the host within timeout.
func (h *netHost) tryDial(t testing.TB, addr string, timeout time.Duration) (net.Conn, error) {
	t.Helper()
	var c net.Conn
	var err error
	h.inside(t, func() { c, err = net.DialTimeout("tcp", addr, timeout) })
	if err == nil {
		_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// dial connects from inside the host; it must succeed.
func (h *netHost) dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := h.tryDial(t, addr, ioTimeout)
	if err != nil {
		t.Fatalf("%s: dial %s: %v", h.ns, addr, err)
	}
	return c
}
