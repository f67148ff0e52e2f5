package integration

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unitValue returns the value of key= in a systemd unit.
func unitValue(t *testing.T, unit, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + key + `=(.*)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatalf("unit has no %s=", key)
	}
	return strings.TrimSpace(m[1])
}

// unitArgs turns an Exec line of the unit into passtunnel arguments, with
// the unit's config and state paths pointed at the test's own.
func unitArgs(t *testing.T, exec, config, state string) []string {
	t.Helper()
	f := strings.Fields(exec)
	if len(f) < 2 || filepath.Base(f[0]) != "passtunnel" {
		t.Fatalf("Exec line does not run passtunnel: %q", exec)
	}
	args := f[1:]
	for i, a := range args {
		switch a {
		case "/etc/passtunnel/passtunnel.hcl":
			args[i] = config
		case "/var/lib/passtunnel":
			args[i] = state
		}
	}
	return args
}

// TestSystemdUnit runs what examples/systemd/passtunnel.service runs: its
// ExecStartPre check passes, ExecStart serves, its ExecReload signal
// reloads the config, and its KillSignal drains and exits 0 well within
// TimeoutStopSec.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	unit := string(mustRead(t, filepath.Join("..", "examples", "systemd", "passtunnel.service")))
	f := newFixture(t)
	be := startEcho(t)
	cfg := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(configText(f.serverTun("svc", "127.0.0.1:0", be.addr))))
	state := t.TempDir()

	if p, code := runCheck(t, nil, unitArgs(t, unitValue(t, unit, "ExecStartPre"), cfg, state)[1:]...); code != 0 {
		t.Fatalf("ExecStartPre check exited %d: %s", code, p.stderr.String())
	}
	p := startProc(t, binPath, unitArgs(t, unitValue(t, unit, "ExecStart"), cfg, state), procOpts{})
	addr := p.listenAddr(t, "svc")
	tlsEcho := func(line string) {
		c := dialTLS(t, addr, f.clientTLS(f.client))
		roundTrip(t, c, bufio.NewReader(c), line, line)
		c.Close()
	}
	tlsEcho("through the service")

	if reload := unitValue(t, unit, "ExecReload"); !strings.Contains(reload, "-HUP $MAINPID") {
		t.Fatalf("ExecReload %q does not send SIGHUP", reload)
	}
	p.signal(t, syscall.SIGHUP)
	p.mustLog(t, 5*time.Second, "config reloaded", logMatch("config reloaded"))
	tlsEcho("after the reload")

	if sig := unitValue(t, unit, "KillSignal"); sig != "SIGTERM" {
		t.Fatalf("KillSignal %q, want SIGTERM (drain)", sig)
	}
	stop, err := time.ParseDuration(unitValue(t, unit, "TimeoutStopSec"))
	if err != nil || stop <= 30*time.Second {
		t.Fatalf("TimeoutStopSec %v must exceed the default drain_timeout of 30s", stop)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.mustExit(t, stop); code != 0 {
		t.Fatalf("exit code %d after KillSignal, want 0", code)
	}
}

// maxExposure is the highest overall exposure systemd-analyze security may
// give the example service ("OK" ends at 3.9; 2.0 leaves no broad hole).
const maxExposure = 2.0

// TestSystemdUnitSecurity scores examples/systemd/passtunnel.service with
// `systemd-analyze security --offline=yes`, which reads the unit file and
// needs no running systemd (the systemd package, which .ci/run installs).
// The socket unit is not scored: it runs no process, so the sandboxing
// the score measures has nothing to apply to; it is verified instead.
func TestSystemdUnitSecurity(t *testing.T) {
	t.Parallel()
	analyze := needProgram(t, "systemd-analyze")
	dir := filepath.Join("..", "examples", "systemd")
	out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager",
		filepath.Join(dir, "passtunnel.service")).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for passtunnel\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure in:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || score > maxExposure {
		t.Fatalf("exposure %s, want at most %.1f:\n%s", m[1], maxExposure, out)
	}
	t.Logf("passtunnel.service: exposure %.1f", score)
	socket := filepath.Join(dir, "passtunnel-redis.socket")
	if out, err := exec.Command(analyze, "verify", "--no-pager", socket).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", socket, err, out)
	}
	unit := string(mustRead(t, socket))
	for key, want := range map[string]string{"FileDescriptorName": "redis", "Service": "passtunnel.service"} {
		if got := unitValue(t, unit, key); got != want {
			t.Errorf("%s: %s=%s, want %s (listen = \"systemd:redis\" of passtunnel.hcl)", socket, key, got, want)
		}
	}
}
