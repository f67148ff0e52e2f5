package integration

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// rotationNodes is the size of the ring the reload rotation rolls.
const rotationNodes = 3

// perStep is how many connections must succeed through every client
// tunnel after each node's reload: each state of the cluster carries
// traffic, not only the first and the last.
const perStep = 5

// ringNode is one node of the ring: a passtunnel process whose server
// tunnel fronts a greeter answering its id, and whose client tunnel dials
// the next node's server tunnel.
type ringNode struct {
	*reloadable
	id, in, next, backend string
}

// config is the node's config with passphrase and previous as files.
func (n ringNode) config(pass string, previous ...string) string {
	return configText(
		ptun{name: "in", mode: "server", listen: n.in, target: n.backend, passphrase: pass, previous: previous},
		ptun{name: "out", mode: "client", listen: "127.0.0.1:0", target: n.next, passphrase: pass, previous: previous},
	)
}

// TestPassphraseRotationByReload rolls a three-node ring from one
// passphrase to another by config reloads alone, while every client
// tunnel keeps opening short connections: step 1 gives each node in turn
// the new passphrase with the old one as previous, step 2 drops the old
// one. No connection may fail, and at the end every node presents a
// certificate of the new cluster CA only.
func TestPassphraseRotationByReload(t *testing.T) {
	passphraseTest(t)
	// Both files in one directory from the start, as in /run/secrets: a
	// sandboxed passtunnel reads files that a reload names only in the
	// directories it read at start (see docs/behaviour.md#sandbox).
	secrets := t.TempDir()
	oldPass := writePassphraseIn(t, secrets, "old", newPassphrase(t))
	newPass := writePassphraseIn(t, secrets, "new", newPassphrase(t))
	dir := shortTempDir(t)
	nodes := make([]ringNode, rotationNodes)
	for i := range nodes {
		nodes[i].id = fmt.Sprintf("node-%d", i)
		nodes[i].in = sock(dir, nodes[i].id+".sock")
	}
	for i := range nodes {
		nodes[i].next = nodes[(i+1)%len(nodes)].in
		nodes[i].backend = greeter(t, nodes[i].id).addr
	}
	for i := range nodes {
		nodes[i].reloadable = runNode(t, nodes[i], nodes[i].config(oldPass))
	}
	for _, n := range nodes { // every server tunnel up before any load
		n.listenAddr(t, "in")
	}
	loads := make([]*ringLoad, len(nodes))
	for i, n := range nodes {
		loads[i] = startRingLoad(t, n.listenAddr(t, "out"), nodes[(i+1)%len(nodes)].id)
	}
	waitTraffic(t, loads, "before the rotation")

	steps := []struct {
		name     string
		pass     string
		previous []string
	}{
		{"step 1: new passphrase, old one previous", newPass, []string{oldPass}},
		{"step 2: previous_passphrases dropped", newPass, nil},
	}
	for _, s := range steps {
		for _, n := range nodes {
			e := n.reload(t, n.config(s.pass, s.previous...))
			expectCounts(t, e, 0, 0, 2, 0)
			waitTraffic(t, loads, fmt.Sprintf("%s, after %s reloaded", s.name, n.id))
		}
	}
	for i, l := range loads {
		ok, failed, first := l.stop()
		t.Logf("%s out: %d connections, %d failed", nodes[i].id, ok+failed, failed)
		if failed != 0 {
			t.Errorf("%s out: %d of %d connections failed during the rotation, first: %v", nodes[i].id, failed, ok+failed, first)
		}
	}
	presentsNewCAOnly(t, nodes, oldPass, newPass)
}

// runNode starts a node's passtunnel on a config file the test rewrites,
// with the node's name for its certificates.
func runNode(t *testing.T, n ringNode, text string) *reloadable {
	t.Helper()
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	env := []string{"PASSTUNNEL_NODE_NAME=" + n.id}
	return &reloadable{startProc(t, binPath, []string{"run", "-config", path}, procOpts{env: env}), path}
}

// waitTraffic waits until every load loop has perStep more successes.
func waitTraffic(t *testing.T, loads []*ringLoad, what string) {
	t.Helper()
	for _, l := range loads {
		target := l.ok.Load() + perStep
		testwait.Until(t, ioTimeout, fmt.Sprintf("%d connections through %s (%s)", perStep, l.addr, what),
			func() bool { return l.ok.Load() >= target })
	}
}

// presentsNewCAOnly checks each node's server tunnel with a Go client that
// holds a certificate of the new CA: the node sends one certificate, the
// new CA signed it, and the old CA did not.
func presentsNewCAOnly(t *testing.T, nodes []ringNode, oldPass, newPass string) {
	t.Helper()
	newCA := parseCAOutput(t, runPKI(t, nil, "ca", "--passphrase-file", newPass).stdout.String()).cert
	oldCA := parseCAOutput(t, runPKI(t, nil, "ca", "--passphrase-file", oldPass).stdout.String()).cert
	probe := pkiIssue(t, newPass, "rotation-probe")
	pool := func(c *x509.Certificate) *x509.CertPool { p := x509.NewCertPool(); p.AddCert(c); return p }
	for _, n := range nodes {
		cfg := &tls.Config{Certificates: []tls.Certificate{probe.pair(t)}, InsecureSkipVerify: true,
			MinVersion: tls.VersionTLS13}
		c := tls.Client(dial(t, n.in), cfg)
		if err := c.Handshake(); err != nil {
			t.Fatalf("%s: handshake with a certificate of the new CA: %v", n.id, err)
		}
		certs := c.ConnectionState().PeerCertificates
		c.Close()
		if len(certs) != 1 {
			t.Errorf("%s presents %d certificates after the rotation, want 1 (the new CA's)", n.id, len(certs))
		}
		opts := func(ca *x509.Certificate) x509.VerifyOptions {
			return x509.VerifyOptions{Roots: pool(ca), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		}
		if _, err := certs[0].Verify(opts(newCA)); err != nil {
			t.Errorf("%s: its certificate does not verify against the new cluster CA: %v", n.id, err)
		}
		if _, err := certs[0].Verify(opts(oldCA)); err == nil {
			t.Errorf("%s: its certificate verifies against the old cluster CA", n.id)
		}
	}
}

// ringLoad opens short connections through one client tunnel until
// stopped: each must be greeted by want and echo a line.
type ringLoad struct {
	addr, want string
	ok, failed atomic.Int64
	mu         sync.Mutex
	first      error
	quit, done chan struct{}
	once       sync.Once
}

func startRingLoad(t *testing.T, addr, want string) *ringLoad {
	l := &ringLoad{addr: addr, want: want, quit: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	t.Cleanup(func() { l.stop() }) // a test that fails half-way stops the loop too
	return l
}

func (l *ringLoad) run() {
	defer close(l.done)
	for i := 0; ; i++ {
		select {
		case <-l.quit:
			return
		default:
		}
		if err := greetAndEcho(l.addr, l.want, fmt.Sprintf("line %d", i)); err != nil {
			l.failed.Add(1)
			l.mu.Lock()
			if l.first == nil {
				l.first = fmt.Errorf("connection %d: %w", i, err)
			}
			l.mu.Unlock()
			continue
		}
		l.ok.Add(1)
	}
}

// stop ends the loop and returns its counts and first failure.
func (l *ringLoad) stop() (ok, failed int64, first error) {
	l.once.Do(func() { close(l.quit); <-l.done })
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok.Load(), l.failed.Load(), l.first
}

// greetAndEcho opens one connection to addr, expects the greeting want,
// and sends line there and back.
func greetAndEcho(addr, want, line string) error {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	r := bufio.NewReader(c)
	got, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if got = strings.TrimSuffix(got, "\n"); got != want {
		return fmt.Errorf("greeted by %q, want %q", got, want)
	}
	if _, err := fmt.Fprintln(c, line); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	back, err := r.ReadString('\n')
	if err != nil || strings.TrimSuffix(back, "\n") != line {
		return fmt.Errorf("echo: %q (%v), want %q", back, err, line)
	}
	return nil
}
