package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The parts of TestHandshakeStorm: a relay that sees the storm's
// ClientHellos go by, the listener's accept queue, the probes and the
// storm's clients.

// helloRelay forwards each connection to a target, counting those whose
// first bytes (a TLS client's ClientHello) it passed on: it tells the test
// when the storm's handshakes are the server's to compute.
type helloRelay struct {
	*backend
	hellos atomic.Int64
	// answered counts the connections whose server has answered its
	// ClientHello: hellos - answered are the handshakes it has still to
	// compute.
	answered atomic.Int64
}

func startHelloRelay(t *testing.T, target string) *helloRelay {
	r := &helloRelay{}
	r.backend = startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		up, err := net.DialTimeout("tcp", target, ioTimeout)
		if err != nil {
			return
		}
		defer up.Close()
		_ = up.SetDeadline(time.Now().Add(2 * time.Minute))
		back := make(chan struct{})
		go func() {
			defer close(back)
			first := make([]byte, 16<<10)
			n, err := up.Read(first)
			if n > 0 {
				r.answered.Add(1)
				if _, err := c.Write(first[:n]); err != nil {
					return
				}
			}
			if err == nil {
				_, _ = io.Copy(c, up)
			}
			closeWrite(c)
		}()
		first := make([]byte, 16<<10)
		n, err := c.Read(first)
		if n > 0 {
			if _, werr := up.Write(first[:n]); werr == nil {
				r.hellos.Add(1)
			}
		}
		if err == nil {
			_, _ = io.Copy(up, c)
		}
		closeWrite(up)
		<-back // the server's side ends once it has seen ours end
	})
	return r
}

// acceptQueue is how many connections to the listener on addr (an IPv4
// host:port) the kernel holds, waiting for accept: the rx_queue of its
// LISTEN line in /proc/net/tcp. ok is false where that cannot be read.
func acceptQueue(addr string) (n int, ok bool) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return 0, false
	}
	table, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, false
	}
	ip := ap.Addr().As4()
	local := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
	for line := range strings.Lines(string(table)) {
		f := strings.Fields(line)
		if len(f) < 5 || f[1] != local || f[3] != "0A" { // 0A: LISTEN
			continue
		}
		_, rx, _ := strings.Cut(f[4], ":")
		q, err := strconv.ParseInt(rx, 16, 64)
		return int(q), err == nil
	}
	return 0, false
}

// probeSet is stormProbes TLS clients, each of whose second flight waits
// for its own release.
type probeSet struct {
	probes  [stormProbes]probe
	results chan probeResult
}

type probe struct {
	gate     chan struct{}
	released time.Time // set before gate closes
}

type probeResult struct {
	i    int
	took time.Duration
	err  error
}

// startProbes starts the probes and returns once each has sent its
// ClientHello and had the server's answer: their handshakes are under way
// on the server, waiting for the second flight.
func startProbes(t *testing.T, addr string, cfg *tls.Config) *probeSet {
	t.Helper()
	ps := &probeSet{results: make(chan probeResult, stormProbes)}
	reached := make(chan struct{}, stormProbes)
	for i := range ps.probes {
		pr := &ps.probes[i]
		pr.gate = make(chan struct{})
		t.Cleanup(pr.open) // a test that failed early must not leave them blocked
		go func() {
			took, err := pr.run(addr, cfg, reached)
			ps.results <- probeResult{i: i, took: took, err: err}
		}()
	}
	for range stormProbes {
		select {
		case <-reached:
		case r := <-ps.results:
			t.Fatalf("probe %d failed before its second flight: %v", r.i, r.err)
		case <-time.After(ioTimeout):
			t.Fatalf("the probes did not get the server's answer to their ClientHello within %v", ioTimeout)
		}
	}
	return ps
}

// run is one probe: the handshake, held at its second flight, then one
// line echoed; took runs from the release to the reply.
func (pr *probe) run(addr string, cfg *tls.Config, reached chan<- struct{}) (time.Duration, error) {
	raw, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(2 * ioTimeout))
	c := tls.Client(&heldConn{Conn: raw, reached: reached, gate: pr.gate}, cfg)
	if err := c.Handshake(); err != nil {
		return 0, fmt.Errorf("handshake: %w", err)
	}
	if _, err := io.WriteString(c, "probe\n"); err != nil {
		return 0, err
	}
	if got, err := bufio.NewReader(c).ReadString('\n'); err != nil || got != "probe\n" {
		return 0, fmt.Errorf("reply %q: %w", got, err)
	}
	return time.Since(pr.released), nil
}

func (pr *probe) open() {
	select {
	case <-pr.gate:
	default:
		close(pr.gate)
	}
}

// release lets the probes' second flights go, one every probeStagger
// while the storm computes, and returns how long each took from its
// release to its reply, -1 for a probe that failed.
func (ps *probeSet) release() []time.Duration {
	for i := range ps.probes {
		if i > 0 {
			time.Sleep(probeStagger) // the storm goes on meanwhile
		}
		ps.probes[i].released = time.Now()
		ps.probes[i].open()
	}
	took := make([]time.Duration, stormProbes)
	for range stormProbes {
		r := <-ps.results // each probe ends within its deadline
		took[r.i] = r.took.Round(time.Millisecond)
		if r.err != nil {
			took[r.i] = -1
		}
	}
	return took
}

// heldConn holds a TLS client's second flight (its second Write) until
// gate is closed, saying on reached when it got there: a client whose
// later bytes take long to arrive.
type heldConn struct {
	net.Conn
	writes  int
	reached chan<- struct{}
	gate    <-chan struct{}
}

func (h *heldConn) Write(b []byte) (int, error) {
	if h.writes++; h.writes == 2 {
		h.reached <- struct{}{}
		<-h.gate
	}
	return h.Conn.Write(b)
}

// stormRun is the storm's clients under way.
type stormRun struct {
	wg     sync.WaitGroup
	done   chan struct{}
	mu     sync.Mutex
	failed map[string]int  // by error
	took   []time.Duration // of the clients that had their echo
}

// startStormClients opens n connections to addr at once, each sending a
// line and waiting for its echo.
func startStormClients(addr string, n int) *stormRun {
	s := &stormRun{done: make(chan struct{}), failed: map[string]int{}}
	start := time.Now()
	for i := range n {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := stormClient(addr, fmt.Sprintf("storm %d\n", i))
			s.mu.Lock()
			defer s.mu.Unlock()
			if err != nil {
				s.failed[shortError(err)]++
			} else {
				s.took = append(s.took, time.Since(start))
			}
		}()
	}
	go func() { s.wg.Wait(); close(s.done) }()
	return s
}

func stormClient(addr, line string) error {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * ioTimeout))
	if _, err := io.WriteString(c, line); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && got != line {
		err = fmt.Errorf("echo %q, want %q", got, line)
	}
	return err
}

// wait waits for every storm client and returns the failures by error.
func (s *stormRun) wait() map[string]int {
	<-s.done // each client ends within its deadline
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.failed)
}

// median is when half the storm's clients had their echo, after wait.
func (s *stormRun) median() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.took) == 0 {
		return 0
	}
	slices.Sort(s.took)
	return s.took[len(s.took)/2].Round(time.Millisecond)
}

// shortError is err without the addresses that make each one unique.
func shortError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// scrapeSeries reads one series of /metrics; ok is false when the scrape
// failed or lacks it. For goroutines other than the test's, which must not
// call t.Fatal.
func scrapeSeries(a adminClient, series string) (v float64, ok bool) {
	resp, err := a.http.Get(a.base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(body)) {
		if s, found := strings.CutPrefix(strings.TrimSpace(line), series+" "); found {
			v, err := strconv.ParseFloat(s, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// watchWaiting scrapes series until done and sends the largest value seen.
func watchWaiting(admin adminClient, series string, done <-chan struct{}) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		most := 0.0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				out <- most
				return
			case <-tick.C:
				if v, ok := scrapeSeries(admin, series); ok {
					most = max(most, v)
				}
			}
		}
	}()
	return out
}
