package integration

import (
	"bufio"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// notifyTimeout bounds the wait for one message on the fake NOTIFY_SOCKET.
const notifyTimeout = 15 * time.Second

// fakeNotifySocket is what systemd listens on for a Type=notify service:
// a unix datagram socket. Each datagram it receives is sent on msgs.
func fakeNotifySocket(t *testing.T) (path string, msgs <-chan string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("notify socket: %v", err)
	}
	ch := make(chan string, 256)
	t.Cleanup(func() { conn.Close() })
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return path, ch
}

// nextNotify waits for the next datagram that has every field of want
// ("READY=1", "STATUS=" for any status...), skipping watchdog pings.
func nextNotify(t *testing.T, msgs <-chan string, what string, want ...string) string {
	t.Helper()
	timeout := time.After(notifyTimeout)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("notify socket closed waiting for %s", what)
			}
			if m == "WATCHDOG=1" && want[0] != "WATCHDOG=1" {
				continue
			}
			if notifyHas(m, want...) {
				return m
			}
			t.Fatalf("waiting for %s: got %q", what, m)
		case <-timeout:
			t.Fatalf("no %s within %v", what, notifyTimeout)
		}
	}
}

// notifyHas reports whether each of want is a line of m, or the start of
// one when it ends with "=".
func notifyHas(m string, want ...string) bool {
	lines := strings.Split(strings.TrimSuffix(m, "\n"), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			if l == w || strings.HasSuffix(w, "=") && strings.HasPrefix(l, w) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TestSystemdNotify drives Type=notify through a fake NOTIFY_SOCKET, as
// systemd would: READY=1 once the tunnel serves, RELOADING=1 with the time
// on SIGHUP and READY=1 after, WATCHDOG=1 at half of WATCHDOG_USEC, and
// STOPPING=1 when SIGTERM starts the drain.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	unit := string(mustRead(t, filepath.Join("..", "examples", "systemd", "passtunnel.service")))
	for key, want := range map[string]string{"Type": "notify", "NotifyAccess": "main", "WatchdogSec": "30s"} {
		if got := unitValue(t, unit, key); got != want {
			t.Errorf("passtunnel.service: %s=%s, want %s: what this test shows", key, got, want)
		}
	}
	f := newFixture(t)
	be := startEcho(t)
	path, msgs := fakeNotifySocket(t)
	env := []string{"NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=200000"}
	p := runConfigText(t, configText(f.serverTun("svc", "127.0.0.1:0", be.addr)), env)

	ready := nextNotify(t, msgs, "READY=1 at start", "READY=1", "STATUS=1 tunnels listening")
	// READY=1 promises a listening tunnel: it must serve at once.
	c := dialTLS(t, p.listenAddr(t, "svc"), f.clientTLS(f.client))
	roundTrip(t, c, bufio.NewReader(c), "after READY=1", "after READY=1")
	c.Close() // the drain would wait for it
	t.Logf("start: %q", ready)

	for range 3 { // 100ms apart: more than one proves a ticker, not a one-off
		nextNotify(t, msgs, "WATCHDOG=1", "WATCHDOG=1")
	}

	p.signal(t, syscall.SIGHUP)
	m := nextNotify(t, msgs, "RELOADING=1 on SIGHUP", "RELOADING=1", "MONOTONIC_USEC=")
	if !monotonicNow(t, m) {
		t.Errorf("MONOTONIC_USEC of %q is not the current CLOCK_MONOTONIC time", m)
	}
	nextNotify(t, msgs, "the reload's STATUS=", "STATUS=1 tunnels; config reloaded (SIGHUP)")
	nextNotify(t, msgs, "READY=1 after the reload", "READY=1")

	p.signal(t, syscall.SIGTERM)
	nextNotify(t, msgs, "STOPPING=1 on SIGTERM", "STOPPING=1")
	if code := p.mustExit(t, notifyTimeout); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}

// monotonicNow reports whether m's MONOTONIC_USEC is within a minute
// before now on CLOCK_MONOTONIC, which systemd compares it with.
func monotonicNow(t *testing.T, m string) bool {
	t.Helper()
	var usec int64
	for _, l := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(l, "MONOTONIC_USEC="); ok {
			var err error
			if usec, err = strconv.ParseInt(v, 10, 64); err != nil {
				t.Fatalf("MONOTONIC_USEC %q: %v", v, err)
			}
		}
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatalf("clock_gettime: %v", err)
	}
	now := ts.Nano() / 1000
	return usec <= now && now-usec < int64(time.Minute/time.Microsecond)
}
