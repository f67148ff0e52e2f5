package integration

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clusterWait bounds one round of the cluster nodes talking to each other.
const clusterWait = 30 * time.Second

var clusterNode struct {
	once sync.Once
	path string
	err  error
}

// clusterNodeBin builds integration/clusternode once per test binary.
func clusterNodeBin(t *testing.T) string {
	t.Helper()
	clusterNode.once.Do(func() {
		clusterNode.path = filepath.Join(filepath.Dir(binPath), "clusternode")
		out, err := exec.Command("go", "build", "-o", clusterNode.path, "./clusternode").CombinedOutput()
		if err != nil {
			clusterNode.err = fmt.Errorf("go build ./clusternode: %v\n%s", err, out)
		}
	})
	if clusterNode.err != nil {
		t.Fatal(clusterNode.err)
	}
	return clusterNode.path
}

// clusterTunnels is a node's whole passtunnel config: the server tunnel in
// front of its daemon and the transparent client tunnel its daemon's
// outbound connections are redirected to, for the lab's addresses.
func clusterTunnels(h *netHost, passFile string) string {
	return configBlocks(daemonTunnel(h, passFile, ""),
		transparentTunnel("redirect", redirectListen, passFile, "10.77.0.0/24"))
}

// startNodes runs a clusternode on each member and on the outsider (nil:
// none), each dialling every other member at its real daemon address, and
// returns what each printed about each peer once all are done. The
// outsider is expected to fail, so it gives up on a peer after a second.
func startNodes(t *testing.T, members []*netHost, outsider *netHost, marker string) map[string][]string {
	t.Helper()
	bin := clusterNodeBin(t)
	hosts := members
	if outsider != nil {
		hosts = append(slices.Clip(members), outsider)
	}
	procs := make([]*proc, len(hosts))
	for i, h := range hosts {
		var others []string
		for _, p := range members {
			if p != h {
				others = append(others, p.addr(daemonPort))
			}
		}
		patience := "10s"
		if h == outsider {
			patience = "1s"
		}
		procs[i] = h.start(t, bin, []string{"node", "-listen", h.addr(daemonPort), "-peers", strings.Join(others, ","),
			"-marker", marker, "-rounds", "3", "-patience", patience}, procOpts{})
	}
	results := map[string][]string{}
	for i, p := range procs {
		// A node that is done still echoes for the others: none stops
		// before all are done.
		p.mustLine(t, p.stdout, clusterWait, "done", func(l string) bool { return l == "done" })
		for _, l := range strings.Split(p.stdout.String(), "\n") {
			if strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "fail ") {
				results[hosts[i].ip] = append(results[hosts[i].ip], l)
			}
		}
	}
	for _, p := range procs {
		p.kill() // frees the daemon port for the next round
		p.waitExit(ioTimeout)
	}
	return results
}

// capture records the lab's bridge until the returned stop is called, and
// then returns the TCP segments with a payload it saw.
func capture(t *testing.T, lab *netLab) (stop func() []tcpSegment) {
	t.Helper()
	bridge := &netHost{ns: lab.bridge}
	out := filepath.Join(t.TempDir(), "bridge.frames")
	p := bridge.start(t, clusterNodeBin(t), []string{"capture", "-iface", "any", "-out", out, "-for", "2m"}, procOpts{})
	p.mustLine(t, p.stdout, ioTimeout, "capturing", func(l string) bool { return strings.HasPrefix(l, "capturing") })
	return func() []tcpSegment {
		p.kill()
		p.waitExit(ioTimeout)
		return tcpSegments(readCapture(t, out))
	}
}

// TestTransparentCluster: three hosts of one cluster whose daemons dial
// each other at their real addresses (10.77.0.N:2552), unmodified, with
// passtunnel in transparent mode and the rules `passtunnel rules -apply`
// makes. Every daemon reaches every other; on the bridge between the
// hosts, every TCP flow is TLS and no cleartext marker shows. A fourth
// host with another passphrase gets nothing through, not even by dialling
// a daemon directly. Removing the rules restores the plain path, where
// the same capture does see the marker in the clear: the check can fail.
func TestTransparentCluster(t *testing.T) {
	needProgram(t, "nft")
	lab := newNetLab(t, 4)
	members, outsider := lab.hosts[:3], lab.hosts[3]
	_, memberPass := passFile(t)
	_, outsiderPass := passFile(t)
	configs := map[*netHost]string{}
	for _, h := range lab.hosts {
		pf := memberPass
		if h == outsider {
			pf = outsiderPass
		}
		p, path := h.runPasstunnel(t, clusterTunnels(h, pf), procOpts{})
		p.listenAddr(t, "in")
		p.listenAddr(t, "out")
		configs[h] = path
	}
	for _, h := range members {
		h.run(t, binPath, "rules", "-config", configs[h], "-apply")
	}
	// Before the outsider has rules of its own: its cleartext to a member's
	// daemon port is dropped by that member's rules.
	if c, err := outsider.tryDial(t, members[0].addr(daemonPort), time.Second); err == nil {
		c.Close()
		t.Errorf("the outsider reached %s in cleartext", members[0].addr(daemonPort))
	}
	outsider.run(t, binPath, "rules", "-config", configs[outsider], "-apply")

	const marker = "CLEARTEXT-MARKER-7f3a"
	stop := capture(t, lab)
	results := startNodes(t, members, outsider, marker)
	segments := stop()
	for _, h := range members {
		if got := results[h.ip]; len(got) != 2 || !allOK(got, members, h) {
			t.Errorf("member %s: %v; want ok for the two other members", h.ip, got)
		}
	}
	if got := results[outsider.ip]; len(got) != 3 {
		t.Errorf("the outsider: %v; want a line for each of the 3 members", got)
	}
	for _, l := range results[outsider.ip] {
		if strings.HasPrefix(l, "ok ") {
			t.Errorf("the outsider got through: %s", l)
		}
	}
	if flows := checkOnlyTLS(t, segments, marker); flows < 12 {
		t.Errorf("the capture saw %d TCP flows; want at least 12 (6 member pairs, both ways)", flows)
	}
	for _, s := range segments {
		if s.src.Port() == daemonPort || s.dst.Port() == daemonPort {
			t.Errorf("a daemon port on the wire: %s", s.flowKey())
		}
	}

	for _, h := range lab.hosts {
		h.run(t, binPath, "rules", "-config", configs[h], "-remove")
	}
	stop = capture(t, lab)
	results = startNodes(t, members, nil, marker)
	segments = stop()
	for _, h := range members {
		if !allOK(results[h.ip], members, h) {
			t.Errorf("without the rules, member %s: %v; want the plain path to work", h.ip, results[h.ip])
		}
	}
	if !sawCleartext(segments, marker) {
		t.Error("without the rules the capture did not see the marker in the clear: it could not have caught a leak")
	}
}

// allOK reports whether lines has "ok" for every member but self.
func allOK(lines []string, members []*netHost, self *netHost) bool {
	for _, m := range members {
		if m != self && !containsLine(lines, "ok "+m.addr(daemonPort)) {
			return false
		}
	}
	return true
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func sawCleartext(segments []tcpSegment, marker string) bool {
	for _, s := range segments {
		if strings.Contains(string(s.payload), marker) {
			return true
		}
	}
	return false
}
