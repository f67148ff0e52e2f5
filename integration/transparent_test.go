package integration

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The daemon's port and the port of its server tunnel, on every host.
const (
	daemonPort = 2552
	tunnelPort = 12552
	// redirectListen is where a transparent client tunnel listens.
	redirectListen = "127.0.0.1:15001"
)

// transparentTunnel is the HCL of a transparent client tunnel to
// destinations, with the passphrase in passFile.
func transparentTunnel(mode, listen, passFile string, destinations ...string) string {
	return fmt.Sprintf(`tunnel "out" {
  mode         = "client"
  listen       = %q
  transparent  = %q
  port_map     = { "%d" = %d }
  destinations = ["%s"]
  passphrase   = file(%q)
}
`, listen, mode, daemonPort, tunnelPort, strings.Join(destinations, `", "`), passFile)
}

// daemonTunnel is the HCL of the server tunnel in front of host h's daemon.
func daemonTunnel(h *netHost, passFile, extra string) string {
	return fmt.Sprintf(`tunnel "in" {
  mode       = "server"
  listen     = "0.0.0.0:%d"
  target     = %q
  passphrase = file(%q)
%s}
`, tunnelPort, h.addr(daemonPort), passFile, extra)
}

// counter is a server that counts the connections it gets and closes them:
// the witness that something was never dialled.
type counter struct{ n atomic.Int64 }

func (c *counter) handle(conn net.Conn) { c.n.Add(1) }

// daemon is an echo server that records the address of each client, as
// the daemon behind a tunnel sees it.
type daemon struct {
	mu    sync.Mutex
	peers []string // client IPs, in order of arrival
}

func (d *daemon) handle(c net.Conn) {
	host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	d.mu.Lock()
	d.peers = append(d.peers, host)
	d.mu.Unlock()
	echo(c)
}

// last is the address of the latest client.
func (d *daemon) last() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.peers) == 0 {
		return ""
	}
	return d.peers[len(d.peers)-1]
}

// echoThrough checks that a line sent from host from to addr comes back.
func echoThrough(t *testing.T, from *netHost, addr, line string) {
	t.Helper()
	c := from.dial(t, addr)
	roundTrip(t, c, bufio.NewReader(c), line, line)
	c.Close()
}

// refusedWith dials addr from host from, expects the connection closed
// without a byte, and the client tunnel's log to name reason.
func refusedWith(t *testing.T, from *netHost, p *proc, addr, reason string) {
	t.Helper()
	n := len(p.logs(logMatch("connection refused", "reason", reason)))
	c := from.dial(t, addr)
	expectClosed(t, c, ioTimeout)
	p.waitLogs(t, ioTimeout, n+1, "connection refused ("+reason+")", logMatch("connection refused", "reason", reason))
}

// TestTransparentRedirect: two hosts of one cluster (same passphrase).
// Host b runs a cleartext daemon and a server tunnel in front of it; host
// a runs a transparent client tunnel and the rules `passtunnel rules
// -apply` makes. A program on a dialling b's daemon address gets through
// TLS, b's tunnel verified a as a peer; what the rules should never have
// sent is refused without a dial; passtunnel's own connection is not
// redirected back to it; `rules -remove` restores the plain path.
func TestTransparentRedirect(t *testing.T) {
	needProgram(t, "nft")
	lab := newNetLab(t, 3)
	a, b, c := lab.hosts[0], lab.hosts[1], lab.hosts[2]
	_, passFile := passFile(t)

	var bd daemon
	b.serve(t, b.addr(daemonPort), bd.handle)
	bp, _ := b.runPasstunnel(t, configBlocks(daemonTunnel(b, passFile, "")), procOpts{})
	bp.listenAddr(t, "in")
	var atC, atB counter // what reaches c's tunnel port, b's unmapped port
	c.serve(t, c.addr(tunnelPort), atC.handle)
	b.serve(t, b.addr(2554), atB.handle)

	ap, aConfig := a.runPasstunnel(t, configBlocks(transparentTunnel("redirect", redirectListen, passFile, b.ip+"/32")), procOpts{})
	ap.listenAddr(t, "out")
	a.run(t, binPath, "rules", "-config", aConfig, "-apply")
	first := a.run(t, "nft", "list", "ruleset").stdout.String()
	a.run(t, binPath, "rules", "-config", aConfig, "-apply")
	if again := a.run(t, "nft", "list", "ruleset").stdout.String(); again != first {
		t.Fatalf("applying twice differs from once:\nonce:\n%s\ntwice:\n%s", first, again)
	}

	ok := t.Run("through TLS", func(t *testing.T) {
		echoThrough(t, a, b.addr(daemonPort), "hello b")
		if bd.last() != b.ip {
			t.Errorf("the daemon saw %s, want b's tunnel (%s)", bd.last(), b.ip)
		}
		e := bp.mustLog(t, ioTimeout, "b's connection closed", logMatch("connection closed", "tunnel", "in"))
		if !strings.HasPrefix(e.str("peer"), a.ip+":") || e.str("peer_subject") == "" {
			t.Errorf("b's tunnel: peer %q, peer_subject %q; want a's address and a verified subject", e.str("peer"), e.str("peer_subject"))
		}
	})
	ok = ok && t.Run("not redirected", func(t *testing.T) {
		refusedWith(t, a, ap, redirectListen, "not_redirected")
	})
	ok = ok && t.Run("destination not allowed", func(t *testing.T) {
		// A rule broader than destinations (stale, or someone else's):
		// the tunnel still refuses, and dials nothing.
		a.run(t, "nft", "add", "rule", "inet", "passtunnel", "out_redirect",
			"ip", "daddr", c.ip, "tcp", "dport", fmt.Sprint(daemonPort), "redirect", "to", ":15001")
		refusedWith(t, a, ap, c.addr(daemonPort), "destination_not_allowed")
		if n := atC.n.Load(); n != 0 {
			t.Errorf("%d connection(s) reached c's tunnel port", n)
		}
	})
	ok = ok && t.Run("port not mapped", func(t *testing.T) {
		a.run(t, "nft", "add", "rule", "inet", "passtunnel", "out_redirect",
			"ip", "daddr", b.ip, "tcp", "dport", "2554", "redirect", "to", ":15001")
		refusedWith(t, a, ap, b.addr(2554), "port_not_mapped")
		if n := atB.n.Load(); n != 0 {
			t.Errorf("%d connection(s) reached b's port 2554", n)
		}
	})
	ok = ok && t.Run("no loop", func(t *testing.T) {
		// Even a rule that redirects the tunnel port itself leaves
		// passtunnel's own connection alone: it carries the mark.
		a.run(t, "nft", "add", "rule", "inet", "passtunnel", "out_redirect",
			"ip", "daddr", b.ip, "tcp", "dport", fmt.Sprint(tunnelPort), "redirect", "to", ":15001")
		echoThrough(t, a, b.addr(daemonPort), "no loop")
	})
	ok = ok && t.Run("remove", func(t *testing.T) {
		a.run(t, binPath, "rules", "-config", aConfig, "-remove")
		if rs := a.run(t, "nft", "list", "ruleset").stdout.String(); strings.Contains(rs, "passtunnel") {
			t.Fatalf("rules left after -remove:\n%s", rs)
		}
		echoThrough(t, a, b.addr(daemonPort), "plain again")
		if bd.last() != a.ip {
			t.Errorf("the daemon saw %s, want a itself (%s): the connection should go direct", bd.last(), a.ip)
		}
	})
	_ = ok
}

// TestTransparentUnprivileged: the sidecar without capabilities (uid
// 65534): SO_MARK is refused, said once, and the connection still works,
// since the rules redirect the daemon's port and passtunnel dials the
// tunnel port. The rules also drop cleartext from other hosts to the
// daemon's port, while b's own tunnel still reaches its daemon.
func TestTransparentUnprivileged(t *testing.T) {
	needProgram(t, "nft")
	lab := newNetLab(t, 2)
	a, b := lab.hosts[0], lab.hosts[1]
	pass := newPassphrase(t)
	env := []string{"PT_IT_PASS=" + pass}
	bin, dir := binaryForNobody(t)
	// Files uid 65534 may read, the passphrase from the environment.
	config := func(name string, blocks ...string) string {
		text := strings.ReplaceAll(configBlocks(blocks...), `file("PASS")`, `env("PT_IT_PASS")`)
		path := writeFile(t, dir, name, []byte(text))
		mustChmod(t, path, 0o644)
		return path
	}
	b.serve(t, b.addr(daemonPort), echo)
	bConfig := config("b.hcl", daemonTunnel(b, "PASS", ""), transparentTunnel("redirect", redirectListen, "PASS", "10.77.0.0/24"))
	bp := b.start(t, bin, []string{"run", "-config", bConfig}, procOpts{env: env, user: nobody})
	bp.listenAddr(t, "in")
	b.runWith(t, procOpts{env: env}, bin, "rules", "-config", bConfig, "-apply")

	aConfig := config("a.hcl", transparentTunnel("redirect", redirectListen, "PASS", "10.77.0.0/24"))
	ap := a.start(t, bin, []string{"run", "-config", aConfig}, procOpts{env: env, user: nobody})
	ap.listenAddr(t, "out")

	if _, err := a.tryDial(t, b.addr(daemonPort), 2*time.Second); err == nil {
		t.Fatal("cleartext from another host reached b's daemon port: the rules should drop it")
	}
	a.runWith(t, procOpts{env: env}, bin, "rules", "-config", aConfig, "-apply")
	echoThrough(t, a, b.addr(daemonPort), "no capabilities")
	ap.mustLog(t, ioTimeout, "the unmarked dial said once", logMatch("dialing without a mark: setting SO_MARK needs CAP_NET_ADMIN"))
	if n := len(ap.logs(logMatch("dialing without a mark: setting SO_MARK needs CAP_NET_ADMIN"))); n != 1 {
		t.Errorf("the missing mark was logged %d times, want once", n)
	}
}

// transparentPair is two hosts of one cluster: b's daemon behind a server
// tunnel (with serverExtra, and b's rules applied when serverRules), and a
// with a transparent client tunnel of mode toward b, its rules applied.
type transparentPair struct {
	a, b   *netHost
	daemon *daemon
	ap     *proc
}

func newTransparentPair(t *testing.T, mode, serverExtra string, serverRules bool) transparentPair {
	t.Helper()
	needProgram(t, "nft")
	lab := newNetLab(t, 2)
	p := transparentPair{a: lab.hosts[0], b: lab.hosts[1], daemon: &daemon{}}
	a, b := p.a, p.b
	_, passFile := passFile(t)
	b.serve(t, b.addr(daemonPort), p.daemon.handle)
	bp, bConfig := b.runPasstunnel(t, configBlocks(daemonTunnel(b, passFile, serverExtra)), procOpts{})
	bp.listenAddr(t, "in")
	if serverRules {
		b.run(t, binPath, "rules", "-config", bConfig, "-apply")
	}
	ap, aConfig := a.runPasstunnel(t, configBlocks(transparentTunnel(mode, redirectListen, passFile, b.ip+"/32")), procOpts{})
	ap.listenAddr(t, "out")
	a.run(t, binPath, "rules", "-config", aConfig, "-apply")
	p.ap = ap
	return p
}

// TestTransparentSource: a server tunnel with transparent_source dials
// its daemon from the client's address, so the daemon sees host a, not
// the tunnel; the rules route the daemon's replies back to the tunnel.
func TestTransparentSource(t *testing.T) {
	p := newTransparentPair(t, "redirect", "  transparent_source = true\n", true)
	a, b, bd := p.a, p.b, p.daemon

	echoThrough(t, a, b.addr(daemonPort), "who am i")
	if bd.last() != a.ip {
		t.Errorf("the daemon saw %s, want the client a (%s)", bd.last(), a.ip)
	}
}

// TestTransparentTproxy: the same path as TestTransparentRedirect's first
// step, with TPROXY: the rules mark the daemon's connection, route it to
// lo, and hand it to the tunnel's IP_TRANSPARENT listener, whose local
// address is the original destination.
func TestTransparentTproxy(t *testing.T) {
	p := newTransparentPair(t, "tproxy", "", false)
	a, b, bd, ap := p.a, p.b, p.daemon, p.ap

	echoThrough(t, a, b.addr(daemonPort), "via tproxy")
	if bd.last() != b.ip {
		t.Errorf("the daemon saw %s, want b's tunnel (%s)", bd.last(), b.ip)
	}
	refusedWith(t, a, ap, redirectListen, "not_redirected")
}

// TestTransparentIPv6: the same path over IPv6 (fd77::/64), with REDIRECT
// (IP6T_SO_ORIGINAL_DST) and with TPROXY: the daemon's connection to b's
// real IPv6 address crosses TLS, and b's tunnel sees a's IPv6 address.
func TestTransparentIPv6(t *testing.T) {
	needProgram(t, "nft")
	for _, mode := range []string{"redirect", "tproxy"} {
		t.Run(mode, func(t *testing.T) {
			lab := newNetLab(t, 2)
			a, b := lab.hosts[0], lab.hosts[1]
			_, passFile := passFile(t)
			daemonAddr := net.JoinHostPort(b.ip6, fmt.Sprint(daemonPort))
			b.serve(t, daemonAddr, echo)
			bp, _ := b.runPasstunnel(t, configBlocks(fmt.Sprintf(`tunnel "in" {
  mode       = "server"
  listen     = "[::]:%d"
  target     = %q
  passphrase = file(%q)
}
`, tunnelPort, daemonAddr, passFile)), procOpts{})
			bp.listenAddr(t, "in")
			ap, aConfig := a.runPasstunnel(t, configBlocks(transparentTunnel(mode, "[::1]:15001", passFile, b.ip6+"/128")), procOpts{})
			ap.listenAddr(t, "out")
			a.run(t, binPath, "rules", "-config", aConfig, "-apply")

			echoThrough(t, a, daemonAddr, "over IPv6 by "+mode)
			e := bp.mustLog(t, ioTimeout, "b's connection closed", logMatch("connection closed", "tunnel", "in"))
			if !strings.HasPrefix(e.str("peer"), "["+a.ip6+"]:") || e.str("peer_subject") == "" {
				t.Errorf("b's tunnel: peer %q, peer_subject %q; want a's IPv6 address and a verified subject",
					e.str("peer"), e.str("peer_subject"))
			}
		})
	}
}
