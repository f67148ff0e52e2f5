package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

var transparentColumns = []column{
	{"p50", "RTT p50 µs", true},
	{"p99", "RTT p99 µs", true},
	{"echo", "echo MB/s", false},
	{"echocpu", "CPU s/GB", true},
}

// transparentRun is one run: the round trips of every row, taking turns
// echo by echo, then one echoed stream through each, the order reversed
// every other run as the proxies' runs are.
func (h *harness) transparentRun(s *transparentSetup, run, runs int, res *results) {
	order := tpRows()
	if run%2 == 0 {
		slices.Reverse(order)
	}
	var addrs []string
	for _, r := range order {
		addrs = append(addrs, s.addrs[r])
	}
	h.logf("run %d/%d: transparent: round trips of every row, interleaved", run, runs)
	figs, err := h.probeIn(s.a, "-what", "rtt", "-addr", strings.Join(addrs, ","),
		"-warm", strconv.Itoa(h.size.rttWarm), "-n", strconv.Itoa(h.size.rttN))
	if err == nil && len(figs) != len(order) {
		err = fmt.Errorf("probe gave %d figures, want %d", len(figs), len(order))
	}
	for i, r := range order {
		if err != nil {
			res.note(r, fmt.Sprintf("round trips: %v", err))
			continue
		}
		res.add(r, "p50", figs[i].P50, nil)
		res.add(r, "p99", figs[i].P99, nil)
	}
	for _, r := range order {
		h.logf("run %d/%d: transparent: %s echo", run, runs, r)
		mbps, cpu, err := h.forwardedEcho(s, r)
		if err != nil {
			res.note(r, fmt.Sprintf("echo: %v", err))
		}
		res.add(r, "echo", mbps, err)
		res.add(r, "echocpu", cpu, err)
	}
}

// forwardedEcho echoes one stream of h.size.echo bytes through row's
// forwarder from inside a, and returns the MB echoed per second and the
// forwarder's CPU seconds per GB echoed (every byte crosses it twice: out,
// and back). The stream is long enough for the CPU clock's 10 ms ticks to
// be a small part of the figure.
func (h *harness) forwardedEcho(s *transparentSetup, row string) (mbps, cpuPerGB float64, err error) {
	pid := s.fwd[row].pid()
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return 0, 0, err
	}
	figs, err := h.probeIn(s.a, "-what", "echo", "-addr", s.addrs[row], "-bytes", strconv.FormatInt(h.size.echo, 10))
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
// each column for each forwarder, what was measured and the notes.
func (h *harness) printTransparent(w io.Writer, res *results, runs int) {
	fmt.Fprintf(w, "%s\n\n", strings.Join(h.versions([]string{kindPasstunnel}, nil), "; "))
	res.table(w, "forwarder in a", transparentColumns)
	for _, f := range tpForwarders() {
		ratios := []string{f + " transparent / explicit"}
		for _, c := range transparentColumns {
			ratios = append(ratios, num(res.median(tpRow(f, modeTransparent), c.key)/res.median(tpRow(f, modeExplicit), c.key)))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(ratios, " | "))
	}
	var ctl []string
	for _, c := range controls {
		ctl = append(ctl, fmt.Sprintf("%s%s (explicit: listen %s; transparent: listen 127.0.0.1:%s, `%s`)",
			c.name, strings.Join(append([]string{""}, c.flags...), " "), c.explicit, c.redirect,
			strings.Join(c.nftCmd(), " ")))
	}
	fmt.Fprintf(w, "\nMedian of %d run(s). Two network namespaces on a veth pair: in b a daemon (echo) at %s "+
		"behind a passphrase server tunnel on %s, and the same echo in cleartext at %s. In a, a process per row: "+
		"passtunnel explicit (listen %s, target %s), passtunnel transparent (redirect, listen %s, port_map = %s, "+
		"the rules of `passtunnel rules -apply`), and the controls, plain Go forwarders (accept, dial, copy both ways "+
		"with io.Copy, which splices, or with -readwrite through a %d KiB buffer; explicit to %s, transparent to the "+
		"SO_ORIGINAL_DST address at port %s; SO_MARK %#x on their dials, which the rules let through): %s. "+
		"The load runs in a: the explicit rows dial their listen address, the transparent rows an address in b, which "+
		"the rules redirect. RTT: %d x 64-byte echoes after %d warm-up, one connection per row, all rows taking turns "+
		"echo by echo; echo: %d MiB written and read back at once on one connection; the rows' order reversed every "+
		"other run; CPU = utime+stime of the row's forwarding process per GB echoed (each byte crosses it twice); "+
		"MB and GB are 10^6 and 10^9 bytes.\n",
		runs, tpDaemon, tpServerListen, controlDaemon, tpExplicit, tpTunnel, tpRedirect, tpPortMap, readWriteBuf>>10,
		controlDaemon, controlPort, controlMark, strings.Join(ctl, "; "), h.size.rttN, h.size.rttWarm, h.size.echo>>20)
	for _, k := range res.kinds {
		for _, n := range res.notes[k] {
			fmt.Fprintf(w, "- %s: %s\n", k, n)
		}
	}
}
