package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process the harness started. Every child is registered until
// it is stopped, so killAll can end them on exit or on a signal.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string // file holding its stdout and stderr ("" if captured elsewhere)
	done chan struct{}
}

var (
	childrenMu sync.Mutex
	children   = map[*child]bool{}
	stopping   bool // set by killAll: no child starts after it
)

// startChild runs bin with args, output appended to logPath. Pdeathsig
// kills it should the harness die without running killAll.
func startChild(name, bin string, args []string, logPath string, env []string) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	return startCmd(name, cmd, logPath)
}

// startCmd runs cmd as a child, its output appended to logPath.
func startCmd(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	return launch(name, cmd, logPath)
}

func launch(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	childrenMu.Lock()
	defer childrenMu.Unlock()
	if stopping {
		return nil, errors.New("shutting down")
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	children[c] = true
	go func() { cmd.Wait(); close(c.done) }()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop kills the child (no graceful drain: nothing is in flight) and waits
// for it, bounded.
func (c *child) stop() {
	childrenMu.Lock()
	delete(children, c)
	childrenMu.Unlock()
	c.cmd.Process.Kill()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
}

// killAll stops every child still running.
func killAll() {
	childrenMu.Lock()
	stopping = true
	all := make([]*child, 0, len(children))
	for c := range children {
		all = append(all, c)
	}
	childrenMu.Unlock()
	for _, c := range all {
		c.stop()
	}
}

// logTail is the end of the child's log, for error messages.
func (c *child) logTail() string {
	b, _ := os.ReadFile(c.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 600 {
		s = "..." + s[len(s)-600:]
	}
	return s
}

// freePorts binds n loopback ports at once, so they differ, and releases
// them for a proxy that cannot listen on port 0. Another process may take
// one meanwhile: callers retry.
func freePorts(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().String())
	}
	return ports, nil
}

var errPortTaken = errors.New("port taken")

// waitReady dials each address until it answers, the child exits, or the
// bound runs out. A child that exited complaining about its address
// returns errPortTaken.
func waitReady(c *child, addrs []string, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for _, a := range addrs {
		for {
			conn, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				conn.Close()
				break
			}
			if c.exited() {
				tail := c.logTail()
				if strings.Contains(tail, "in use") || strings.Contains(strings.ToLower(tail), "cannot bind") {
					return errPortTaken
				}
				return fmt.Errorf("%s exited before listening on %s: %s", c.name, a, tail)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not listening on %s after %v: %s", c.name, a, bound, c.logTail())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A child that failed to bind may have lost the port to another process
	// that answered our dial: make sure ours is still alive.
	time.Sleep(50 * time.Millisecond)
	if c.exited() {
		return errPortTaken
	}
	return nil
}

// waitLog waits, bounded, until the child's log holds substr.
func waitLog(c *child, substr string, bound time.Duration) error {
	for deadline := time.Now().Add(bound); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(c.log); strings.Contains(string(b), substr) {
			return nil
		}
		if c.exited() {
			return fmt.Errorf("%s exited: %s", c.name, c.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q in the log of %s after %v", substr, c.name, bound)
		}
	}
}

// startHelper re-executes the harness with args inside namespace ns as a
// helper that prints the address it listens on, then serves until its
// stdin closes; it returns the helper and that address. The helper's
// stderr goes to logPath, or to the harness's if "".
func (h *harness) startHelper(ns, name, logPath string, args ...string) (*child, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := nsCommand(ns, exe, args...)
	// The helper exits when its stdin closes. cmd keeps the write end open
	// until the helper is gone, so a harness killed outright leaves no helper.
	if _, err := cmd.StdinPipe(); err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = os.Stderr
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		cmd.Stderr = f
	}
	c, err := launch(name, cmd, logPath)
	if err != nil {
		return nil, "", err
	}
	printed := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		printed <- strings.TrimSpace(l)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-printed:
		if a == "" {
			c.stop()
			return nil, "", fmt.Errorf("%s printed no address: %s", name, c.logTail())
		}
		return c, a, nil
	case <-time.After(10 * time.Second):
		c.stop()
		return nil, "", fmt.Errorf("%s did not start", name)
	}
}
