package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// idServer answers every connection with its id and a newline, then waits
// for the peer to close. stop takes it down (connections already answered
// finish), start brings it back on the same address.
type idServer struct {
	id, addr string
	mu       sync.Mutex
	ln       net.Listener
	wg       sync.WaitGroup
}

func startIDServer(t *testing.T, id string) *idServer {
	s := &idServer{id: id, addr: "127.0.0.1:0"}
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

func (s *idServer) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatalf("backend %s on %s: %v", s.id, s.addr, err)
	}
	s.mu.Lock()
	s.ln, s.addr = ln, ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(ioTimeout))
				_, _ = io.WriteString(c, s.id+"\n")
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
}

func (s *idServer) stop() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// deadTarget is an address every dial is refused on: 127.0.0.2 on the port
// of a listener held on 127.0.0.1 until the test ends.
func deadTarget(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return net.JoinHostPort("127.0.0.2", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

// targetsTunnel is a server tunnel block over targets with balance.
func targetsTunnel(f *fixture, name, balance string, targets ...string) string {
	quoted := make([]string, len(targets))
	for i, a := range targets {
		quoted[i] = strconv.Quote(a)
	}
	return fmt.Sprintf(`tunnel %q {
  mode    = "server"
  listen  = "127.0.0.1:0"
  target  = [%s]
  balance = %q
  tls {
    cert = %q
    key  = %q
    ca   = %q
  }
}
`, name, strings.Join(quoted, ", "), balance, f.server.cert, f.server.key, f.caA)
}

// who connects through the server tunnel at addr and returns the id of the
// backend that answered; a connection the tunnel refused fails the test.
func who(t *testing.T, f *fixture, addr string) string {
	t.Helper()
	c := dialTLS(t, addr, f.clientTLS(f.client))
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	id, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("connection through %s refused: %v (read %q)", addr, err, id)
	}
	return strings.TrimSuffix(id, "\n")
}

// TestFailoverTargets: with target = [a, b] and failover, a takes every
// connection; once a dies every new connection still succeeds, through b;
// back on its port, a takes the connections again once its backoff ended.
// The phases follow one another (no connection is in flight while a
// stops), so that a connection a accepted and then dropped by dying, which
// no tunnel could save, does not make the test flaky.
func TestFailoverTargets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := startIDServer(t, "a"), startIDServer(t, "b")
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configBlocks(targetsTunnel(f, "fo", "failover", a.addr, b.addr)), nil)
	addr := pt.listenAddr(t, "fo")
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	for i := range 5 {
		if id := who(t, f, addr); id != "a" {
			t.Fatalf("connection %d before the kill: answered by %q, want a", i, id)
		}
	}

	a.stop()
	start := time.Now()
	const during = 10
	for i := range during {
		if id := who(t, f, addr); id != "b" {
			t.Fatalf("connection %d after the kill: answered by %q, want b", i, id)
		}
	}
	// a is retried once each time its backoff (1s, then doubling) ends:
	// the first connection after the kill pays one failed dial, and only a
	// slow box gives the others more.
	failedA := `passtunnel_target_dials_total{result="failed",target="` + a.addr + `",tunnel="fo"}`
	m := admin.metrics(t)
	if n, most := m[failedA], 1+time.Since(start).Seconds(); n < 1 || n > most {
		t.Errorf("%s = %v, want 1 to %.0f", failedA, n, most)
	}
	pt.mustLog(t, ioTimeout, "a's failure, with its backoff", func(e logEntry) bool {
		return logMatch("target dial failed", "target", a.addr)(e) && e.num("backoff") == float64(time.Second)
	})

	a.start(t) // the same port: a.addr is still the target
	testwait.Poll(t, 40*time.Second, func() error {
		if id := who(t, f, addr); id != "a" {
			return fmt.Errorf("answered by %q while a is back", id)
		}
		return nil
	})
	pt.mustLog(t, ioTimeout, "a back up", logMatch("target up again", "target", a.addr))
	for i := range 3 {
		if id := who(t, f, addr); id != "a" {
			t.Fatalf("connection %d after a came back: answered by %q", i, id)
		}
	}
	m = admin.metrics(t)
	for series, least := range map[string]float64{
		`passtunnel_target_dials_total{result="ok",target="` + a.addr + `",tunnel="fo"}`: 5 + 1 + 3,
		`passtunnel_target_dials_total{result="ok",target="` + b.addr + `",tunnel="fo"}`: during,
		failedA: 1,
		`passtunnel_target_up{target="` + a.addr + `",tunnel="fo"}`: 1,
		`passtunnel_target_up{target="` + b.addr + `",tunnel="fo"}`: 1,
	} {
		if m[series] < least {
			t.Errorf("%s = %v, want at least %v", series, m[series], least)
		}
	}
	if n := m[`passtunnel_target_dials_total{result="failed",target="`+b.addr+`",tunnel="fo"}`]; n != 0 {
		t.Errorf("b failed %v dials", n)
	}
}

// TestRoundRobinTargets: round_robin spreads the connections over both
// targets in turn.
func TestRoundRobinTargets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := startIDServer(t, "a"), startIDServer(t, "b")
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configBlocks(targetsTunnel(f, "rr", "round_robin", a.addr, b.addr)), nil)
	addr := pt.listenAddr(t, "rr")
	admin := newAdminClient(t, pt.adminAddr(t, 0))
	var got []string
	for range 6 {
		got = append(got, who(t, f, addr))
	}
	if s := strings.Join(got, ""); s != "ababab" {
		t.Errorf("answered by %s, want ababab", s)
	}
	m := admin.metrics(t)
	for _, x := range []*idServer{a, b} {
		if n := m[`passtunnel_target_dials_total{result="ok",target="`+x.addr+`",tunnel="rr"}`]; n != 3 {
			t.Errorf("%s: %v dials, want 3", x.id, n)
		}
	}
}

// TestClientTargets: a client tunnel dials before its handshake: with
// --target listing a dead address first, it handshakes with the server
// tunnel after it, and every connection is carried.
func TestClientTargets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	srv := startRun(t, f.serverTun("srv", "127.0.0.1:0", be.addr))
	srvAddr := srv.listenAddr(t, "srv")
	dead := deadTarget(t)
	cli := startFlags(t, "client", "--listen", "127.0.0.1:0", "--target", dead+","+srvAddr,
		"--cert", f.client.cert, "--key", f.client.key, "--ca", f.caA, "--server-name", "localhost")
	addr := cli.listenAddr(t, "client")
	for i := range 3 {
		echoOnce(t, addr, fmt.Sprintf("line %d", i))
	}
	cli.mustLog(t, ioTimeout, "the dead target's failure", logMatch("target dial failed", "target", dead))
	srv.waitLogs(t, ioTimeout, 3, "3 carried connections", logMatch("connection closed", "peer_subject", "CN=it-client"))
}
