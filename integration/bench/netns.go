package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The transparent measurement's two hosts are network namespaces joined
// by a veth pair. Both ends of the pair are made inside the namespaces and
// every address exists only there: the host's own namespace is never
// touched. Passtunnel's rules exempt connections to a host's own
// addresses, so the client side and the server side must be two hosts.
const (
	hostAIP = "10.78.0.1" // the client host
	hostBIP = "10.78.0.2" // the server host, where the daemon runs
)

// netCmdBound bounds one ip or passtunnel rules command.
const netCmdBound = 20 * time.Second

// namespaces are the network namespaces the harness made. shutdown removes
// them on every way out, a signal included, and refuses new ones after.
type namespaces struct {
	mu     sync.Mutex
	names  []string
	closed bool
}

// add makes namespace name. The lock is held while ip runs, so a shutdown
// meanwhile waits for it and then removes it too.
func (n *namespaces) add(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("shutting down")
	}
	if err := netCmd("ip", "netns", "add", name); err != nil {
		return err
	}
	n.names = append(n.names, name)
	return nil
}

// removeAll deletes every namespace made so far; their interfaces and
// firewall rules go with them. Processes still inside keep theirs alive
// until they exit: stop them first.
func (n *namespaces) removeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removeLocked()
}

func (n *namespaces) removeLocked() {
	for _, ns := range n.names {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
			continue // already gone
		}
		if err := netCmd("ip", "netns", "del", ns); err != nil {
			fmt.Fprintln(os.Stderr, "bench: cleanup:", err)
		}
	}
	n.names = nil
}

// shutdown removes every namespace and makes add fail from now on.
func (n *namespaces) shutdown() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	n.removeLocked()
}

// makeHosts makes namespaces a and b, named after the harness's pid so
// that two harnesses never share one, with lo up and eth0 (10.78.0.1/24
// in a, 10.78.0.2/24 in b) joined by a veth pair.
func (h *harness) makeHosts() (a, b string, err error) {
	base := fmt.Sprintf("ptb-%d", os.Getpid())
	a, b = base+"-a", base+"-b"
	for _, ns := range []string{a, b} {
		if err := h.netns.add(ns); err != nil {
			return "", "", fmt.Errorf("make network namespace: %w", err)
		}
	}
	cmds := [][]string{
		{"-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b},
		{"-n", a, "addr", "add", hostAIP + "/24", "dev", "eth0"},
		{"-n", b, "addr", "add", hostBIP + "/24", "dev", "eth0"},
	}
	for _, ns := range []string{a, b} {
		cmds = append(cmds, []string{"-n", ns, "link", "set", "eth0", "up"}, []string{"-n", ns, "link", "set", "lo", "up"})
	}
	for _, c := range cmds {
		if err := netCmd("ip", c...); err != nil {
			return "", "", err
		}
	}
	return a, b, nil
}

// nsCommand is bin with args, inside network namespace ns ("" for the
// harness's own). ip netns exec execs bin in its own place, so the
// process's pid is bin's: its CPU time can be read.
func nsCommand(ns, bin string, args ...string) *exec.Cmd {
	if ns == "" {
		return exec.Command(bin, args...)
	}
	return exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
}

// netCmd runs one command to completion within netCmdBound.
func netCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.WaitDelay = time.Second
	timer := time.AfterFunc(netCmdBound, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
