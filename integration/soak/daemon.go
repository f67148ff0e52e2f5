package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// startTimeout bounds how long the daemon may take to report a listener.
const startTimeout = 30 * time.Second

// buildBinary compiles passtunnel from the module around the working
// directory into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the passtunnel module: run from the repository, or give -bin")
	}
	bin := filepath.Join(dir, "passtunnel")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/passtunnel/passtunnel")
	cmd.Dir = filepath.Dir(mod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build passtunnel: %w\n%s", err, out)
	}
	return bin, nil
}

// daemon is the passtunnel process under load.
type daemon struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done closes
}

// startDaemon runs `passtunnel run` on cfgPath, its output in logPath.
// Its own process group keeps a terminal's Ctrl-C for the soak, which
// stops it in order; Pdeathsig ends it should the soak die first.
func startDaemon(bin, cfgPath, logPath string) (*daemon, error) {
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon log: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &daemon{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		d.waitErr = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// reload sends SIGHUP, the operator's way to reload the config.
func (d *daemon) reload() error {
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("SIGHUP to passtunnel: %w", err)
	}
	return nil
}

// kill ends the daemon at once: the run was interrupted, and the
// transfers in flight should break now rather than run to their ends.
func (d *daemon) kill() { _ = d.cmd.Process.Kill() }

// stop ends the daemon with SIGTERM (it drains), then SIGKILL if it has
// not exited within the bound.
func (d *daemon) stop() {
	if d.exited() {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(40 * time.Second): // drain_timeout (30 s) and margin
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}
