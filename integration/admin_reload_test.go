package integration

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// TestAdminAcrossReloads: a reload moves the admin endpoint (TCP to a unix
// socket) and adds a tunnel whose address is taken: /readyz names it with
// 503 and the reload counts as partial. Once the address is free, the next
// reload starts it and /readyz is 200 again. Counters of a tunnel changed
// in place keep counting; a tunnel that does not run has no series.
func TestAdminAcrossReloads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	a := f.serverTun("a", "127.0.0.1:0", be.addr)
	// The admin socket moves to a directory the config did not use at
	// start, which the sandbox refuses (TestSandboxConfinesReload).
	path := filepath.Join(t.TempDir(), "passtunnel.hcl")
	replaceFile(t, path, "admin = \"127.0.0.1:0\"\n"+configText(a))
	pt := runReloadable(t, path, "--no-sandbox")
	aAddr := pt.listenAddr(t, "a")
	oldAdminAddr := pt.adminAddr(t, 0)
	admin := newAdminClient(t, oldAdminAddr)
	admin.waitStatus(t, "/readyz", http.StatusOK, startTimeout)
	echoTLS(t, f, aAddr, "counted once")

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b := f.serverTun("b", taken.Addr().String(), be.addr)
	sock := "unix:" + filepath.Join(shortTempDir(t), "admin.sock")
	text := fmt.Sprintf("admin = %q\n%s", sock, configText(a, b))
	if res := pt.reload(t, text); res.str("msg") != "config reloaded" || res.num("failed") != 1 {
		t.Fatalf("reload result %v, want config reloaded with failed=1", res)
	}
	if got := pt.adminAddr(t, 1); got != sock {
		t.Fatalf("admin moved to %q, want %q", got, sock)
	}
	refusedWithin(t, oldAdminAddr, reloadTimeout)
	admin = newAdminClient(t, sock)
	body := admin.expect(t, "/readyz", http.StatusServiceUnavailable, `tunnel "b"`)
	if strings.Contains(body, `tunnel "a"`) {
		t.Errorf("/readyz blames the running tunnel a: %q", body)
	}
	m := pt.reloadMetrics(t, admin)
	if m[`passtunnel_connections_accepted_total{tunnel="a"}`] != 1 || m[`passtunnel_config_reloads_total{result="partial"}`] < 1 {
		t.Errorf("after a partial reload: %v", m)
	}
	for series := range m {
		if strings.Contains(series, `tunnel="b"`) {
			t.Errorf("series of a tunnel that does not run: %s", series)
		}
	}

	// Free the address; change a in place (same listen, new limits).
	taken.Close()
	a.limits = `    max_connections = 7`
	if res := pt.reload(t, fmt.Sprintf("admin = %q\n%s", sock, configText(a, b))); res.str("msg") != "config reloaded" ||
		res.num("added") != 1 || res.num("changed") != 1 || res.num("failed") != 0 {
		t.Fatalf("second reload result %v, want b added and a changed", res)
	}
	admin.expect(t, "/readyz", http.StatusOK, "ready")
	echoTLS(t, f, aAddr, "counted twice")
	m = pt.reloadMetrics(t, admin)
	for series, want := range map[string]float64{
		`passtunnel_connections_accepted_total{tunnel="a"}`: 2, // monotonic across the in-place change
		`passtunnel_connections_accepted_total{tunnel="b"}`: 0,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
}

// echoTLS carries one line through a server tunnel and closes.
func echoTLS(t *testing.T, f *fixture, addr, line string) {
	t.Helper()
	c := dialTLS(t, addr, f.clientTLS(f.client))
	roundTrip(t, c, bufio.NewReader(c), line, line)
	c.Close()
}

// reloadMetrics scrapes until config_reloads_total agrees with the reload
// result lines logged so far, and returns that scrape. Both the file
// watcher and SIGHUP may reload one edit (see reloadable.reload), so the
// counts come from the log, not from the number of edits.
func (r *reloadable) reloadMetrics(t *testing.T, admin adminClient) map[string]float64 {
	t.Helper()
	var m map[string]float64
	testwait.Poll(t, reloadTimeout, func() error {
		want := map[string]float64{"ok": 0, "partial": 0, "refused": 0}
		for _, e := range r.logs(isReloadResult) {
			switch {
			case e.str("msg") == "config reload refused":
				want["refused"]++
			case e.str("failed") != "":
				want["partial"]++
			default:
				want["ok"]++
			}
		}
		m = admin.metrics(t)
		for result, n := range want {
			if m[`passtunnel_config_reloads_total{result="`+result+`"}`] != n {
				return fmt.Errorf("config_reloads_total does not match the logged results %v: %v", want, m)
			}
		}
		return nil
	})
	return m
}
