package integration

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// The process runs with a soft limit of fdSoft descriptors and a hard one
// of fdHard: low enough that a few hundred connections reach it.
const (
	fdSoft = 256
	fdHard = 512
	// adminBound is how long /healthz and /readyz may take at the limit: a
	// liveness probe's timeout is of this order (1 s by default), with
	// room for a loaded machine.
	adminBound = 10 * time.Second
	// probeBound is how long a new connection may take to be carried
	// (the client tunnel's handshake with the server tunnel on a loaded
	// machine) or refused before it counts as stalled.
	probeBound = 10 * time.Second
)

// TestDescriptorBudgetKeepsAdminAnswering fills the process's descriptors
// with connections through a client tunnel and a server tunnel of the same
// process (4 descriptors each: the accepted side and the dial of both
// tunnels) to an echo backend that holds them. Without a budget, accepts
// and dials fail with EMFILE and /healthz times out, as a liveness probe
// would see it. With it, new connections are refused (fd_budget) while
// the admin endpoint answers, a reload runs, the connections already
// carried keep working, and once they close new ones are carried again.
func TestDescriptorBudgetKeepsAdminAnswering(t *testing.T) {
	t.Parallel()
	prlimit := needProgram(t, "prlimit")
	f := newFixture(t)
	be := startEcho(t)
	srvListen := sock(shortTempDir(t), "srv.sock")
	srv := f.serverTun("srv", srvListen, be.addr)
	cli := f.clientTun("cli", "127.0.0.1:0", srvListen)
	text := func(idle string) string {
		srv.limits = fmt.Sprintf("    idle_timeout = %q", idle)
		return "admin = \"127.0.0.1:0\"\n" + configText(srv, cli)
	}
	path := filepath.Join(t.TempDir(), "passtunnel.hcl")
	replaceFile(t, path, text("10m"))
	pt := &reloadable{startProc(t, prlimit, []string{fmt.Sprintf("--nofile=%d:%d", fdSoft, fdHard),
		binPath, "run", "-config", path}, procOpts{}), path}
	addr := pt.listenAddr(t, "cli")
	pt.listenAddr(t, "srv")
	admin := adminBounded(t, pt.adminAddr(t, 0))
	admin.expect(t, "/readyz", http.StatusOK, "ready")

	held, refused := fillDescriptors(t, addr, 200)
	if refused == 0 { // the admin endpoint is checked all the same: it is what a probe sees
		t.Errorf("%d connections carried and none refused: the process ran out of descriptors first", len(held))
	}
	t.Logf("%d connections carried, then %d refused", len(held), refused)

	admin.expect(t, "/healthz", http.StatusOK, "ok")
	admin.expect(t, "/readyz", http.StatusOK, "ready")
	pt.mustLog(t, ioTimeout, `a refusal with reason "fd_budget"`,
		logMatch("connection refused", "tunnel", "cli", "reason", "fd_budget"))
	if m := admin.metrics(t); m[`passtunnel_connections_refused_total{reason="fd_budget",tunnel="cli"}`] < 1 {
		t.Errorf("no fd_budget refusal counted for cli; metrics: %v", m)
	}
	if res := pt.reload(t, text("20m")); res.str("msg") != "config reloaded" || res.str("level") != "INFO" {
		t.Fatalf("reload at the descriptor limit: %v", res)
	}
	for i, h := range held[:3] { // target dials were made within the budget: these still carry
		roundTrip(t, h.c, h.r, fmt.Sprintf("still here %d", i), fmt.Sprintf("still here %d", i))
	}

	for _, h := range held {
		h.c.Close()
	}
	testwait.Poll(t, ioTimeout, func() error {
		if budgetCarried(t, addr) != carried {
			return errors.New("a new connection is still not carried after the others closed")
		}
		return nil
	})
	expectRaisedLimit(t, pt.proc)
}

// adminBounded is an admin client whose requests must answer within
// adminBound.
func adminBounded(t *testing.T, addr string) adminClient {
	a := newAdminClient(t, addr)
	a.http.Timeout = adminBound
	return a
}

// expectRaisedLimit checks that the process raised its soft limit to the
// hard one, in the start line and in what the kernel reports.
func expectRaisedLimit(t *testing.T, pt *proc) {
	t.Helper()
	e := pt.mustLog(t, startTimeout, "the descriptors line", logMatch("descriptors"))
	if e.num("soft") != fdHard || e.num("hard") != fdHard || e.num("budget") <= 0 || e.num("reserve") <= 0 {
		t.Errorf("descriptors line %v, want soft and hard %d and a budget", e, fdHard)
	}
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pt.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(fmt.Sprintf(`(?m)^Max open files\s+%d\s+%d\s`, fdHard, fdHard))
	if !want.Match(limits) {
		t.Errorf("soft limit not raised to %d:\n%s", fdHard, limits)
	}
}

// carriedConn is a connection carried to the echo backend, kept open.
type carriedConn struct {
	c net.Conn
	r *bufio.Reader
}

// budgetOutcome is what became of a new connection.
type budgetOutcome int

const (
	carried budgetOutcome = iota // the echo came back
	closed                       // closed at once: refused
	stalled                      // neither: left in the listen backlog
)

// fillDescriptors opens connections to addr one at a time until three in
// a row are refused, one stalls, or max were carried; it returns those
// carried, still open, and the count refused.
func fillDescriptors(t *testing.T, addr string, max int) (held []carriedConn, refused int) {
	t.Helper()
	t.Cleanup(func() {
		for _, h := range held {
			h.c.Close()
		}
	})
	for run := 0; run < 3 && len(held) < max; {
		c, r, res := budgetProbe(t, addr)
		switch res {
		case carried:
			held, run = append(held, carriedConn{c, r}), 0
		case closed:
			refused++
			run++
		case stalled:
			t.Errorf("after %d connections carried and %d refused, the next one was neither carried nor refused",
				len(held), refused)
			return held, refused
		}
	}
	return held, refused
}

// budgetCarried opens a connection, tells what became of it and closes it.
func budgetCarried(t *testing.T, addr string) budgetOutcome {
	c, _, res := budgetProbe(t, addr)
	if c != nil {
		c.Close()
	}
	return res
}

// probe dials addr and sends a line through; c is nil unless carried.
func budgetProbe(t *testing.T, addr string) (net.Conn, *bufio.Reader, budgetOutcome) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(probeBound))
	r := bufio.NewReader(c)
	_, err = io.WriteString(c, "ping\n")
	var line string
	if err == nil {
		line, err = r.ReadString('\n')
	}
	var ne net.Error
	switch {
	case err == nil && line == "ping\n":
		_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
		return c, r, carried
	case err == nil:
		t.Fatalf("echo %q, want ping", line)
	case errors.As(err, &ne) && ne.Timeout():
		c.Close()
		return nil, nil, stalled
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		strings.Contains(err.Error(), "connection reset"):
		c.Close()
		return nil, nil, closed
	default:
		t.Fatalf("probe %s: %v", addr, err)
	}
	return nil, nil, stalled
}
