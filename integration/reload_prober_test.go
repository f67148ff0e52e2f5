package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/pki"
)

// probeEvery is the pace of the prober's connections.
const probeEvery = 50 * time.Millisecond

// prober connects to a TLS address in a loop, each time completing a
// handshake and an echo round trip, and records the certificate served and
// every failure.
type prober struct {
	addr string
	cfg  *tls.Config
	quit chan struct{}
	done chan struct{}

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every connection
	n        int
	last     string // fingerprint served to the last connection
	failures []error
}

func startProber(t *testing.T, addr string, cfg *tls.Config) *prober {
	pr := &prober{addr: addr, cfg: cfg, quit: make(chan struct{}), done: make(chan struct{}), changed: make(chan struct{})}
	go pr.loop()
	t.Cleanup(func() { pr.stop() })
	return pr
}

func (pr *prober) loop() {
	defer close(pr.done)
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		fp, err := pr.probe()
		pr.mu.Lock()
		pr.n++
		if err != nil {
			pr.failures = append(pr.failures, fmt.Errorf("connection %d: %w", pr.n, err))
		} else {
			pr.last = fp
		}
		close(pr.changed)
		pr.changed = make(chan struct{})
		pr.mu.Unlock()
		select {
		case <-pr.quit:
			return
		case <-tick.C:
		}
	}
}

// probe makes one connection and returns the fingerprint of the leaf.
func (pr *prober) probe() (string, error) {
	d := &net.Dialer{Timeout: ioTimeout}
	c, err := tls.DialWithDialer(d, "tcp", pr.addr, pr.cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ping" {
		return "", fmt.Errorf("echo: got %q, %v", line, err)
	}
	return pki.Fingerprint(c.ConnectionState().PeerCertificates[0].Raw), nil
}

// stop ends the loop and returns the number of connections and failures.
func (pr *prober) stop() (int, []error) {
	select {
	case <-pr.quit:
	default:
		close(pr.quit)
	}
	<-pr.done // bounded: each probe is bounded by ioTimeout
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.n, pr.failures
}

func (pr *prober) latest() string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.last
}

// waitFor waits, at most limit, until cond holds after a connection.
func (pr *prober) waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(limit)
	for {
		pr.mu.Lock()
		ok, changed := cond(), pr.changed
		pr.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("not within %v: %s", limit, what)
		}
	}
}

// waitServed waits until a connection is served the certificate fp.
func (pr *prober) waitServed(t *testing.T, fp string, limit time.Duration) {
	t.Helper()
	pr.waitFor(t, limit, "certificate "+fp+" served", func() bool { return pr.last == fp })
}

// waitConnections waits for n more connections.
func (pr *prober) waitConnections(t *testing.T, n int) {
	t.Helper()
	pr.mu.Lock()
	want := pr.n + n
	pr.mu.Unlock()
	pr.waitFor(t, time.Duration(n)*probeEvery+ioTimeout, fmt.Sprintf("%d more connections", n),
		func() bool { return pr.n >= want })
}
