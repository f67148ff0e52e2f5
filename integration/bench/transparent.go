package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// -measure transparent: does a transparent client tunnel cost more than an
// explicit one, and is the difference passtunnel's? Host b (a namespace)
// runs a daemon (the echo helper) at 10.78.0.2:2552 behind a passphrase
// server tunnel on :12552, and the same echo at 10.78.0.2:2553 in
// cleartext. Host a runs a forwarding process per row, so each one's CPU
// is its own: two passtunnel client tunnels of the same cluster,
// "explicit", with a listen address and a target, and "transparent", fed by
// the rules `passtunnel rules -apply` puts in a; and the controls, plain Go
// forwarders to 2553 (see forward.go), each explicit and fed by one more
// redirect rule. The load is the harness re-executed in a as a probe (see
// probe.go).

// The modes compared, each by every forwarder.
const (
	modeExplicit    = "explicit"
	modeTransparent = "transparent"
)

// tpForwarders are the forwarders measured, each in both modes.
func tpForwarders() []string {
	fwds := []string{kindPasstunnel}
	for _, c := range controls {
		fwds = append(fwds, c.name)
	}
	return fwds
}

// tpRow names one row of the table: a forwarder in a mode.
func tpRow(fwd, mode string) string { return fwd + " " + mode }

// tpRows are the rows of the table, in the order of the odd runs.
func tpRows() []string {
	var rows []string
	for _, f := range tpForwarders() {
		rows = append(rows, tpRow(f, modeExplicit), tpRow(f, modeTransparent))
	}
	return rows
}

const (
	tpDaemon       = hostBIP + ":2552"  // the daemon, whose port the rules redirect
	tpServerListen = "0.0.0.0:12552"    // its server tunnel
	tpTunnel       = hostBIP + ":12552" // the explicit client tunnel's target
	tpPortMap      = `{ "2552" = 12552 }`
	tpExplicit     = "127.0.0.1:12553" // the explicit client tunnel, in a
	tpRedirect     = "127.0.0.1:15001" // the transparent one
	tpCluster      = "bench-transparent"
)

// transparentSetup is what the measurement runs.
type transparentSetup struct {
	a, b  string            // the client host's and the server host's namespaces
	fwd   map[string]*child // row -> its forwarding process, in a
	addrs map[string]string // row -> the address the load in a dials
	procs []*child          // everything started, to stop
}

// stop ends every process, the last started first.
func (s *transparentSetup) stop() {
	for _, c := range slices.Backward(s.procs) {
		c.stop()
	}
}

// transparentMissing names what the measurement needs and lacks, "" if
// nothing.
func transparentMissing() string {
	var miss []string
	if uid := os.Geteuid(); uid != 0 {
		miss = append(miss, fmt.Sprintf("root, to make network namespaces and apply rules (running as uid %d)", uid))
	}
	for _, p := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(p); err != nil {
			miss = append(miss, p+" (not installed)")
		}
	}
	return strings.Join(miss, "; ")
}

// compareTransparent runs the transparent measurement and prints its
// table, or a note saying what it lacks.
func (h *harness) compareTransparent(runs int) error {
	if h.measuresProxies() {
		fmt.Println()
	}
	if why := transparentMissing(); why != "" {
		fmt.Printf("Transparent mode: not measured: it needs %s.\n", why)
		return nil
	}
	if h.bins[kindPasstunnel] == "" {
		if _, err := h.findBins([]string{kindPasstunnel}); err != nil {
			return err
		}
	}
	s := &transparentSetup{fwd: map[string]*child{}, addrs: map[string]string{
		tpRow(kindPasstunnel, modeExplicit): tpExplicit, tpRow(kindPasstunnel, modeTransparent): tpDaemon,
	}}
	defer h.netns.removeAll()
	defer s.stop()
	start := time.Now()
	if err := h.startTransparent(s); err != nil {
		return fmt.Errorf("transparent: %w", err)
	}
	res := newResults(tpRows())
	for run := 1; run <= runs; run++ {
		h.transparentRun(s, run, runs, res)
	}
	h.logf("transparent: done in %v", time.Since(start).Round(time.Second))
	h.printTransparent(os.Stdout, res, runs)
	return nil
}

// startTransparent makes the hosts, starts the daemons and the
// forwarders, applies the rules in a and checks that each daemon's address
// really reaches its transparent forwarder.
func (h *harness) startTransparent(s *transparentSetup) (err error) {
	if s.a, s.b, err = h.makeHosts(); err != nil {
		return err
	}
	pass, err := h.writePassphrase()
	if err != nil {
		return err
	}
	for _, addr := range []string{tpDaemon, controlDaemon} {
		echo, _, err := h.startEchoHelper(s.b, addr)
		if err != nil {
			return err
		}
		s.procs = append(s.procs, echo)
	}
	rulesFile, err := h.startTunnels(s, pass)
	if err != nil {
		return err
	}
	if err := h.startControls(s); err != nil {
		return err
	}
	if err := netCmd("ip", "netns", "exec", s.a, h.bins[kindPasstunnel], "rules", "-backend", "nftables",
		"-config", rulesFile, "-apply"); err != nil {
		return err
	}
	for _, c := range controls {
		if err := netCmd("ip", append([]string{"netns", "exec", s.a}, c.nftCmd()...)...); err != nil {
			return err
		}
	}
	return h.checkTransparent(s)
}

// checkTransparent echoes through every row's address until each answers,
// and checks that the daemons' own addresses reached the transparent
// forwarders: without the rules they would have gone straight to b.
func (h *harness) checkTransparent(s *transparentSetup) error {
	var addrs []string
	for _, r := range tpRows() {
		addrs = append(addrs, s.addrs[r])
	}
	if _, err := h.probeIn(s.a, "-what", "ready", "-addr", strings.Join(addrs, ",")); err != nil {
		for _, c := range s.procs {
			if c.exited() {
				return fmt.Errorf("%s exited: %s", c.name, c.logTail())
			}
		}
		return err
	}
	// passtunnel logs each connection; a control each original destination.
	logs := map[string]string{tpRow(kindPasstunnel, modeTransparent): "connection closed"}
	for _, c := range controls {
		logs[tpRow(c.name, modeTransparent)] = "original destination " + c.addr(modeTransparent)
	}
	for row, log := range logs {
		if err := waitLog(s.fwd[row], log, 10*time.Second); err != nil {
			return fmt.Errorf("%s was not redirected to %s: %w", s.addrs[row], row, err)
		}
	}
	return nil
}

// startTunnels starts the server tunnel in b and the two client tunnels
// in a, a process each, and returns the transparent one's config.
func (h *harness) startTunnels(s *transparentSetup, pass string) (rulesFile string, err error) {
	for _, t := range []struct{ mode, ns, hcl string }{
		{"server", s.b, tunnelBlock("daemon-in", "server", tpServerListen, pass, fmt.Sprintf("target = %q", tpDaemon))},
		{modeExplicit, s.a, tunnelBlock("daemon-out", "client", tpExplicit, pass, fmt.Sprintf("target = %q", tpTunnel))},
		{modeTransparent, s.a, tunnelBlock("daemon-out", "client", tpRedirect, pass, `transparent = "redirect"`,
			"port_map = "+tpPortMap, fmt.Sprintf("destinations = [%q]", hostBIP+"/32"))},
	} {
		c, path, err := h.startTunnelIn(t.ns, t.mode, t.hcl)
		if err != nil {
			return "", err
		}
		s.procs = append(s.procs, c)
		if t.mode != "server" {
			s.fwd[tpRow(kindPasstunnel, t.mode)] = c
		}
		if t.mode == modeTransparent {
			rulesFile = path
		}
	}
	return rulesFile, nil
}

// tunnelBlock is the HCL of one tunnel of the bench cluster (a passphrase
// in a file and a cluster name, as a transparent cluster has), with more
// lines.
func tunnelBlock(name, mode, listen, passFile string, lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tunnel %q {\n  mode = %q\n  listen = %q\n", name, mode, listen)
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	fmt.Fprintf(&b, "  passphrase = file(%q)\n  cluster = %q\n}\n", passFile, tpCluster)
	return b.String()
}

// writePassphrase writes a random passphrase to a 0600 file in the work
// directory (0700: a trust file's directory must not be writable by
// others) and returns its path; configs and argv only ever hold the path.
func (h *harness) writePassphrase() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	path := filepath.Join(h.dir, "passphrase")
	return path, os.WriteFile(path, []byte("ptb-"+hex.EncodeToString(b)+"\n"), 0o600)
}

// startTunnelIn writes text as a config and runs `passtunnel run` on it
// inside namespace ns; it returns the process and the config's path.
func (h *harness) startTunnelIn(ns, name, text string) (*child, string, error) {
	h.seq++
	path := filepath.Join(h.dir, fmt.Sprintf("%03d-transparent-%s.hcl", h.seq, name))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, "", err
	}
	// Logs go to a directory of their own, as in startProxy.
	logPath := filepath.Join(h.dir, "logs", strings.TrimSuffix(filepath.Base(path), ".hcl")+".log")
	c, err := startCmd("passtunnel "+name, nsCommand(ns, h.bins[kindPasstunnel], "run", "-config", path), logPath)
	return c, path, err
}
