package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testlog"
)

// clientTunnel is a tunnel block that needs no certificate files.
func clientTunnel(name, listen string) string {
	return fmt.Sprintf("tunnel %q {\n  mode = \"client\"\n  listen = %q\n  target = \"127.0.0.1:1\"\n"+
		"  tls { insecure_skip_verify = true }\n}\n", name, listen)
}

// testFleet runs the tunnels of a config file in this process, the way
// serve does but without the signal loop: tests call reload themselves.
type testFleet struct {
	*Fleet
	path string
	logs *testlog.Buffer
}

func startTestFleet(t *testing.T, text string) *testFleet {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passtunnel.hcl")
	writeFile(t, path, text)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	log, level := NewLogger(cfg, logs)
	f, err := newFleet(log, level, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	signal.Stop(f.sigs) // signals are for the process, not for this test
	f.cfg, f.format = cfg, cfg.LogFormat
	if err := f.start(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		closeAll(f.tunnels)
		f.cancel()
		f.retiring.Wait()
	})
	return &testFleet{Fleet: f, path: path, logs: logs}
}

// reloadWith rewrites the config file and reloads it.
func (f *testFleet) reloadWith(t *testing.T, text string) {
	t.Helper()
	writeFile(t, f.path, text)
	f.reload("test")
}

func (f *testFleet) addr(t *testing.T, name string) string {
	t.Helper()
	for _, rt := range f.tunnels {
		if rt.cfg.Name == name {
			return rt.tunnel.Addr().String()
		}
	}
	t.Fatalf("tunnel %q is not running", name)
	return ""
}

func (f *testFleet) expectLog(t *testing.T, parts ...string) {
	t.Helper()
	for _, line := range strings.Split(f.logs.String(), "\n") {
		if containsAll(line, parts) {
			return
		}
	}
	t.Fatalf("no log line with %q in:\n%s", parts, f.logs)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// holdPort keeps a loopback port busy until the returned func is called.
func holdPort(t *testing.T) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func() { ln.Close() }
}

// accepts reports whether something listens on addr. A reset counts: a
// client tunnel whose target is down resets the connections it accepted,
// sometimes before the dial here has finished.
func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil || errors.Is(err, syscall.ECONNRESET)
}

func TestReloadLogSettings(t *testing.T) {
	f := startTestFleet(t, "log_level = \"info\"\n"+clientTunnel("a", "127.0.0.1:0"))
	f.reloadWith(t, "log_level = \"error\"\nlog_format = \"json\"\n"+clientTunnel("a", "127.0.0.1:0"))
	if got := f.level.Level(); got != slog.LevelError {
		t.Errorf("log level after reload = %v, want ERROR", got)
	}
	f.expectLog(t, "level=WARN", "log_format changes apply after a restart", "running=text", "configured=json")
	f.expectLog(t, "level=INFO", `msg="config reloaded"`, "unchanged=1")
}

func TestReloadAddedTunnelCannotListen(t *testing.T) {
	f := startTestFleet(t, clientTunnel("a", "127.0.0.1:0"))
	busy, free := holdPort(t)
	next := clientTunnel("a", "127.0.0.1:0") + clientTunnel("b", busy)
	f.reloadWith(t, next)
	f.expectLog(t, "level=ERROR", `msg="tunnel not started"`, "tunnel=b")
	f.expectLog(t, "level=WARN", `msg="config reloaded"`, "added=1", "failed=1")
	if len(f.tunnels) != 1 || f.reloads.partial.Load() != 1 {
		t.Fatalf("running %d tunnels, %d partial reloads; want 1 and 1", len(f.tunnels), f.reloads.partial.Load())
	}
	// The next reload of the same file tries again.
	free()
	f.reload("test")
	if !accepts(f.addr(t, "b")) || f.reloads.succeeded.Load() != 1 {
		t.Fatalf("tunnel b not started by the second reload (%d succeeded)", f.reloads.succeeded.Load())
	}
}

func TestReloadMoveFailureKeepsTunnel(t *testing.T) {
	f := startTestFleet(t, clientTunnel("m", "127.0.0.1:0"))
	old := f.addr(t, "m")
	busy, _ := holdPort(t)
	f.reloadWith(t, clientTunnel("m", busy))
	f.expectLog(t, "level=ERROR", `msg="tunnel not moved; it keeps running with its old settings"`)
	if f.addr(t, "m") != old || !accepts(old) {
		t.Fatal("a tunnel that could not move stopped serving on its old address")
	}
}

func TestReloadRefused(t *testing.T) {
	f := startTestFleet(t, clientTunnel("a", "127.0.0.1:0"))
	addr := f.addr(t, "a")
	f.reloadWith(t, clientTunnel("a", "127.0.0.1:0")+clientTunnel("b", "127.0.0.1:0")+"tunnel \"c\" {")
	f.expectLog(t, "level=ERROR", `msg="config reload refused"`, filepath.Base(f.path)+":")
	if len(f.tunnels) != 1 || f.addr(t, "a") != addr || f.reloads.refused.Load() != 1 {
		t.Fatalf("a refused reload changed the fleet: %d tunnels, %d refused", len(f.tunnels), f.reloads.refused.Load())
	}
}

func TestReloadWithoutConfigFile(t *testing.T) {
	f := startTestFleet(t, clientTunnel("a", "127.0.0.1:0"))
	f.cfg = &config.Config{} // as built from command-line flags
	f.reload("SIGHUP")
	f.expectLog(t, "nothing to reload", "trigger=SIGHUP")
}
