package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// -measure transparent: does a transparent client tunnel cost more than an
// explicit one? Host b (a namespace) runs a daemon (the echo helper) at
// 10.78.0.2:2552 behind a passphrase server tunnel on :12552. Host a runs
// two client tunnels of the same cluster, one process each so each one's
// CPU is its own: "explicit", with a listen address and a target, and
// "transparent", fed by the rules `passtunnel rules -apply` puts in a. The
// load is the harness re-executed in a as a probe (see probe.go).

// The modes compared: the rows of the table.
const (
	modeExplicit    = "explicit"
	modeTransparent = "transparent"
)

const (
	tpDaemon       = hostBIP + ":2552"  // the daemon, whose port the rules redirect
	tpServerListen = "0.0.0.0:12552"    // its server tunnel
	tpTunnel       = hostBIP + ":12552" // the explicit client tunnel's target
	tpPortMap      = `{ "2552" = 12552 }`
	tpExplicit     = "127.0.0.1:12553" // the explicit client tunnel, in a
	tpRedirect     = "127.0.0.1:15001" // the transparent one
	tpCluster      = "bench-transparent"
)

var transparentColumns = []column{
	{"p50", "RTT p50 µs", true},
	{"p99", "RTT p99 µs", true},
	{"echo", "echo MB/s", false},
	{"echocpu", "CPU s/GB", true},
}

// transparentSetup is what the measurement runs.
type transparentSetup struct {
	a, b    string            // the client host's and the server host's namespaces
	clients map[string]*child // mode -> its client tunnel, in a
	addrs   map[string]string // mode -> the address the load in a dials
	procs   []*child          // everything started, to stop
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
	s := &transparentSetup{clients: map[string]*child{},
		addrs: map[string]string{modeExplicit: tpExplicit, modeTransparent: tpDaemon}}
	defer h.netns.removeAll()
	defer s.stop()
	start := time.Now()
	if err := h.startTransparent(s); err != nil {
		return fmt.Errorf("transparent: %w", err)
	}
	res := newResults([]string{modeExplicit, modeTransparent})
	for run := 1; run <= runs; run++ {
		h.transparentRun(s, run, runs, res)
	}
	h.logf("transparent: done in %v", time.Since(start).Round(time.Second))
	h.printTransparent(os.Stdout, res, runs)
	return nil
}

// startTransparent makes the hosts, starts the daemon and the tunnels,
// applies the rules in a and checks that the daemon's address really
// reaches the transparent tunnel.
func (h *harness) startTransparent(s *transparentSetup) (err error) {
	if s.a, s.b, err = h.makeHosts(); err != nil {
		return err
	}
	pass, err := h.writePassphrase()
	if err != nil {
		return err
	}
	echo, _, err := h.startEchoHelper(s.b, tpDaemon)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, echo)
	rulesFile, err := h.startTunnels(s, pass)
	if err != nil {
		return err
	}
	if err := netCmd("ip", "netns", "exec", s.a, h.bins[kindPasstunnel], "rules", "-backend", "nftables",
		"-config", rulesFile, "-apply"); err != nil {
		return err
	}
	if _, err := h.probeIn(s.a, "-what", "ready", "-addr", tpExplicit+","+tpDaemon); err != nil {
		for _, c := range s.procs {
			if c.exited() {
				return fmt.Errorf("%s exited: %s", c.name, c.logTail())
			}
		}
		return err
	}
	// Without the rules the probe's echo to the daemon's address would
	// have gone straight to it: the tunnel must have seen it.
	if err := waitLog(s.clients[modeTransparent], "connection closed", 10*time.Second); err != nil {
		return fmt.Errorf("%s was not redirected to the transparent tunnel: %w", tpDaemon, err)
	}
	return nil
}

// startTunnels starts the server tunnel in b and the two client tunnels
// in a, a process each, and returns the transparent one's config.
func (h *harness) startTunnels(s *transparentSetup, pass string) (rulesFile string, err error) {
	for _, t := range []struct{ name, ns, hcl string }{
		{"server", s.b, tunnelBlock("daemon-in", "server", tpServerListen, pass, fmt.Sprintf("target = %q", tpDaemon))},
		{modeExplicit, s.a, tunnelBlock("daemon-out", "client", tpExplicit, pass, fmt.Sprintf("target = %q", tpTunnel))},
		{modeTransparent, s.a, tunnelBlock("daemon-out", "client", tpRedirect, pass, `transparent = "redirect"`,
			"port_map = "+tpPortMap, fmt.Sprintf("destinations = [%q]", hostBIP+"/32"))},
	} {
		c, path, err := h.startTunnelIn(t.ns, t.name, t.hcl)
		if err != nil {
			return "", err
		}
		s.procs = append(s.procs, c)
		if t.name != "server" {
			s.clients[t.name] = c
		}
		if t.name == modeTransparent {
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

// transparentRun is one run: the round trips of both modes, taking turns
// echo by echo, then one echoed stream through each, the first mode
// swapping every other run as the proxies' runs do.
func (h *harness) transparentRun(s *transparentSetup, run, runs int, res *results) {
	order := []string{modeExplicit, modeTransparent}
	if run%2 == 0 {
		slices.Reverse(order)
	}
	h.logf("run %d/%d: transparent: round trips of both modes, interleaved", run, runs)
	figs, err := h.probeIn(s.a, "-what", "rtt", "-addr", s.addrs[order[0]]+","+s.addrs[order[1]],
		"-warm", strconv.Itoa(h.size.rttWarm), "-n", strconv.Itoa(h.size.rttN))
	if err == nil && len(figs) != len(order) {
		err = fmt.Errorf("probe gave %d figures, want %d", len(figs), len(order))
	}
	for i, m := range order {
		if err != nil {
			res.note(m, fmt.Sprintf("round trips: %v", err))
			continue
		}
		res.add(m, "p50", figs[i].P50, nil)
		res.add(m, "p99", figs[i].P99, nil)
	}
	for _, m := range order {
		h.logf("run %d/%d: transparent: %s echo", run, runs, m)
		mbps, cpu, err := h.tunnelEcho(s, m)
		if err != nil {
			res.note(m, fmt.Sprintf("echo: %v", err))
		}
		res.add(m, "echo", mbps, err)
		res.add(m, "echocpu", cpu, err)
	}
}

// tunnelEcho echoes one stream of h.size.echo bytes through mode's
// client tunnel from inside a, and returns the MB echoed per second and
// the client tunnel's CPU seconds per GB echoed (every byte crosses it
// twice: out encrypted, back decrypted). The stream is long enough for
// the CPU clock's 10 ms ticks to be a small part of the figure.
func (h *harness) tunnelEcho(s *transparentSetup, mode string) (mbps, cpuPerGB float64, err error) {
	pid := s.clients[mode].pid()
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return 0, 0, err
	}
	figs, err := h.probeIn(s.a, "-what", "echo", "-addr", s.addrs[mode], "-bytes", strconv.FormatInt(h.size.echo, 10))
	if err != nil {
		return 0, 0, err
	}
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return 0, 0, err
	}
	if len(figs) != 1 {
		return 0, 0, fmt.Errorf("probe gave %d figures, want 1", len(figs))
	}
	return figs[0].MBps, (cpu1 - cpu0) / (float64(h.size.echo) / 1e9), nil
}

// printTransparent writes the table, the ratio transparent / explicit of
// each column, what was measured and the notes.
func (h *harness) printTransparent(w io.Writer, res *results, runs int) {
	fmt.Fprintf(w, "%s\n\n", strings.Join(h.versions([]string{kindPasstunnel}, nil), "; "))
	res.table(w, "client tunnel", transparentColumns)
	ratios := []string{"transparent / explicit"}
	for _, c := range transparentColumns {
		ratios = append(ratios, num(res.median(modeTransparent, c.key)/res.median(modeExplicit, c.key)))
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(ratios, " | "))
	fmt.Fprintf(w, "\nMedian of %d run(s). Two network namespaces on a veth pair: in b a daemon (echo) at %s "+
		"behind a passphrase server tunnel on %s; in a two client tunnels, a process each: explicit (listen %s, "+
		"target %s) and transparent (redirect, listen %s, port_map = %s, the rules of `passtunnel rules -apply`). "+
		"The load runs in a: explicit dials %s, transparent dials the daemon's own address %s. "+
		"RTT: %d x 64-byte echoes after %d warm-up, one connection per mode, the two taking turns echo by echo; "+
		"echo: %d MiB written and read back at once on one connection; CPU = utime+stime of the client tunnel "+
		"per GB echoed (each byte crosses it twice); MB and GB are 10^6 and 10^9 bytes.\n",
		runs, tpDaemon, tpServerListen, tpExplicit, tpTunnel, tpRedirect, tpPortMap, tpExplicit, tpDaemon,
		h.size.rttN, h.size.rttWarm, h.size.echo>>20)
	for _, k := range res.kinds {
		for _, n := range res.notes[k] {
			fmt.Fprintf(w, "- %s: %s\n", k, n)
		}
	}
}
