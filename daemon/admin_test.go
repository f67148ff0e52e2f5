package daemon

import (
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// adminListening finds the address of the "admin listening" line.
var adminListening = regexp.MustCompile(`msg="admin listening" listen=(\S+)`)

// Scrapes and probes run while reloads add and remove tunnels: they read
// the published view, never the fleet's own slice (run with -race).
func TestAdminServesDuringReloads(t *testing.T) {
	base := "admin = \"127.0.0.1:0\"\n" + clientTunnel("a", "127.0.0.1:0")
	f := startTestFleet(t, base)
	url := startTestAdmin(t, f)

	stop := make(chan struct{})
	errs := make(chan string, 100)
	var wg sync.WaitGroup
	for _, path := range []string{"/metrics", "/readyz"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(url + path)
				if err != nil {
					errs <- err.Error()
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- path + ": " + resp.Status
					return
				}
			}
		}()
	}
	for range 5 {
		f.reloadWith(t, base+clientTunnel("b", "127.0.0.1:0"))
		f.reloadWith(t, base)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := f.reloads.succeeded.Load(); got != 10 {
		t.Errorf("%d reloads succeeded, want 10", got)
	}
}

// startTestAdmin starts f's admin server and returns its base URL, read
// from the log line that announces it.
func startTestAdmin(t *testing.T, f *testFleet) string {
	t.Helper()
	if err := f.startAdmin(f.cfg.Admin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.admin.close)
	m := adminListening.FindStringSubmatch(f.logs.String())
	if m == nil {
		t.Fatalf("no admin listening line in:\n%s", f.logs)
	}
	return "http://" + m[1]
}
