package integration

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file is the harness of the passphrase tests: HCL for passphrase
// tunnels, the `pki` commands, and the suite-wide secret check (a registry
// of every passphrase handed to passtunnel and of every process the suite
// ran, scanned by TestMain after m.Run).

// ---- secret registry and scan ----

// suite is what the secret scan reads after m.Run.
var suite struct {
	mu      sync.Mutex
	secrets []recordedSecret
	procs   []*proc
	ppTests int // passphrase tests started (see passphraseTest)
}

type recordedSecret struct {
	value string
	test  string // the test that recorded it: printed instead of the value
	// fragments: the value is random, so any 16-byte piece of it in some
	// output is a (partial) leak too, never a coincidence.
	fragments bool
}

// recordSecret adds s to the values no process output and no test output
// may contain.
func recordSecret(t testing.TB, s string, fragments bool) string {
	t.Helper()
	if s == "" {
		t.Fatal("recordSecret: empty secret")
	}
	suite.mu.Lock()
	defer suite.mu.Unlock()
	suite.secrets = append(suite.secrets, recordedSecret{value: s, test: t.Name(), fragments: fragments})
	return s
}

// recordProc keeps p so that the secret scan reads its output. startProc
// calls it for every process the suite starts.
func recordProc(p *proc) {
	suite.mu.Lock()
	defer suite.mu.Unlock()
	suite.procs = append(suite.procs, p)
}

// passphraseTest marks the start of a test that uses passphrases: if any
// ran, the scan insists that passphrases were recorded.
func passphraseTest(t *testing.T) {
	t.Helper()
	t.Parallel()
	suite.mu.Lock()
	suite.ppTests++
	suite.mu.Unlock()
}

const fragmentLen = 16

// leaks reports whether out contains s, or a fragment of it when s.fragments.
func (s recordedSecret) leaks(out string) bool {
	if strings.Contains(out, s.value) {
		return true
	}
	if !s.fragments || len(s.value) <= fragmentLen {
		return false
	}
	for i := 0; i+fragmentLen <= len(s.value); i++ {
		if strings.Contains(out, s.value[i:i+fragmentLen]) {
			return true
		}
	}
	return false
}

// captureStdout tees os.Stdout, where the testing package writes every
// test's log and error text, into a buffer. stop restores os.Stdout and
// returns what was written.
func captureStdout() (stop func() []byte, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	orig := os.Stdout
	os.Stdout = w
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		chunk := make([]byte, 32<<10)
		for {
			n, err := r.Read(chunk)
			if n > 0 {
				buf.Write(chunk[:n])
				_, _ = orig.Write(chunk[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return func() []byte {
		os.Stdout = orig
		w.Close()
		<-done
		r.Close()
		return buf.Bytes()
	}, nil
}

// scanSecrets looks for every recorded passphrase in the stdout and stderr
// of every process the suite ran and in the test output, and reports to w.
// It names the process or the output, never the secret. It fails when it
// could prove nothing: no process captured, or passphrase tests that
// recorded no passphrase.
func scanSecrets(testOutput []byte, w io.Writer) bool {
	suite.mu.Lock()
	secrets := append([]recordedSecret(nil), suite.secrets...)
	procs := append([]*proc(nil), suite.procs...)
	ppTests := suite.ppTests
	suite.mu.Unlock()

	ok := true
	fail := func(format string, args ...any) {
		fmt.Fprintf(w, "secret scan: FAIL: "+format+"\n", args...)
		ok = false
	}
	if len(procs) == 0 {
		fail("no process output was captured, so nothing was checked (is startProc still calling recordProc?)")
	}
	if ppTests > 0 && len(secrets) == 0 {
		fail("%d passphrase tests ran but recorded no passphrase (write passphrases with writePassphrase)", ppTests)
	}
	// The scan itself must find what it looks for.
	for _, s := range secrets {
		if !s.leaks("x" + s.value + "x") {
			fail("self-check: a secret recorded by %s is not found in a text that holds it", s.test)
		}
	}
	var scanned int
	check := func(where, out string) {
		scanned += len(out)
		for _, s := range secrets {
			if s.leaks(out) {
				fail("%s contains a passphrase recorded by %s", where, s.test)
			}
		}
	}
	for _, p := range procs {
		check(p.label+" stdout", p.stdout.String())
		check(p.label+" stderr", p.stderr.String())
	}
	check("the test output (logs and errors of the tests)", string(testOutput))
	if len(procs) > 0 && scanned == 0 {
		fail("%d processes captured but no byte of output", len(procs))
	}
	if ok {
		fmt.Fprintf(w, "secret scan: %d passphrases, %d processes, %d bytes of output: none leaked\n",
			len(secrets), len(procs), scanned)
	}
	return ok
}

// ---- passphrases ----

// newPassphrase is a random passphrase that meets the policy, recorded.
func newPassphrase(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return recordSecret(t, "ptit-"+hex.EncodeToString(b), true)
}

// writePassphrase records p and writes it, with the trailing newline that
// `echo` and editors add, to a fresh 0600 file; it returns the path.
func writePassphrase(t testing.TB, p string) string {
	t.Helper()
	recordSecret(t, p, false)
	dir := t.TempDir()
	path := filepath.Join(dir, "passphrase")
	if err := os.WriteFile(path, []byte(p+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// passFile is a new random passphrase and the file that holds it.
func passFile(t testing.TB) (pass, path string) {
	t.Helper()
	pass = newPassphrase(t)
	return pass, writePassphrase(t, pass)
}

// ---- passphrase tunnels ----

// ptun is one passphrase tunnel block of a test config.
type ptun struct {
	name, mode, listen, target string
	passphrase                 string   // file holding it
	previous                   []string // files
	cluster                    string   // "" for the default
	allowWeak                  bool
	extra                      string // more HCL lines inside the block
}

func (c ptun) hcl() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tunnel %q {\n  mode   = %q\n  listen = %q\n  target = %q\n", c.name, c.mode, c.listen, c.target)
	fmt.Fprintf(&b, "  passphrase = file(%q)\n", c.passphrase)
	if len(c.previous) > 0 {
		var fs []string
		for _, p := range c.previous {
			fs = append(fs, fmt.Sprintf("file(%q)", p))
		}
		fmt.Fprintf(&b, "  previous_passphrases = [%s]\n", strings.Join(fs, ", "))
	}
	if c.cluster != "" {
		fmt.Fprintf(&b, "  cluster = %q\n", c.cluster)
	}
	if c.allowWeak {
		b.WriteString("  allow_weak_passphrase = true\n")
	}
	if c.extra != "" {
		b.WriteString(c.extra)
		if !strings.HasSuffix(c.extra, "\n") {
			b.WriteString("\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// startPassRun writes the tunnels to a config file and runs `passtunnel
// run` with env added to the environment.
func startPassRun(t testing.TB, env []string, tunnels ...ptun) *proc {
	t.Helper()
	return runText(t, configText(tunnels...), env)
}

// ---- pki commands ----

// pkiTimeout bounds one `passtunnel pki` command (one Argon2 derivation).
const pkiTimeout = 30 * time.Second

// runPKI runs `passtunnel pki ARGS...` to completion and fails the test
// unless it exits 0.
func runPKI(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := startProc(t, binPath, append([]string{"pki"}, args...), procOpts{env: env})
	if code := p.mustExit(t, pkiTimeout); code != 0 {
		t.Fatalf("passtunnel pki %s: exit code %d\nstderr:\n%s", strings.Join(args, " "), code, p.stderr.String())
	}
	return p
}

// issued is the output of `passtunnel pki issue`.
type issued struct {
	cert, key, ca string
}

// pair loads the issued certificate and key.
func (id issued) pair(t testing.TB) tls.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(id.cert, id.key)
	if err != nil {
		t.Fatalf("issued cert and key: %v", err)
	}
	return pair
}

// roots is a pool of the issued ca.crt, the cluster CA.
func (id issued) roots(t testing.TB) *x509.CertPool {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(mustRead(t, id.ca)) {
		t.Fatal("ca.crt of pki issue does not parse")
	}
	return roots
}

// pkiIssue runs `pki issue` for name with the passphrase in passFile.
func pkiIssue(t *testing.T, passFile, name string, extra ...string) issued {
	t.Helper()
	dir := t.TempDir()
	runPKI(t, nil, append([]string{"issue", "--name", name, "--out", dir, "--passphrase-file", passFile}, extra...)...)
	return issued{
		cert: filepath.Join(dir, name+".crt"),
		key:  filepath.Join(dir, name+".key"),
		ca:   filepath.Join(dir, "ca.crt"),
	}
}

// ---- logs ----

// waitLogs waits until at least n JSON log lines on stderr match and
// returns them all.
func (p *proc) waitLogs(t testing.TB, timeout time.Duration, n int, what string, match func(logEntry) bool) []logEntry {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		lines, changed := p.stderr.snapshot()
		var found []logEntry
		for _, l := range lines {
			if e, ok := parseLog(l); ok && match(e) {
				found = append(found, e)
			}
		}
		if len(found) >= n {
			return found
		}
		select {
		case <-changed:
		case <-p.done:
			if lines2, _ := p.stderr.snapshot(); len(lines2) == len(lines) {
				t.Fatalf("%s: exited with %d of %d log lines %s", p.label, len(found), n, what)
			}
		case <-deadline.C:
			t.Fatalf("%s: %d of %d log lines %s within %v", p.label, len(found), n, what, timeout)
		}
	}
}

// ---- a TCP relay that reads the TLS handshake ----

// tlsRelay forwards TCP connections to a target that can be switched, and
// records, per connection, whether the ClientHello offered a pre-shared key
// and whether the ServerHello accepted one: in TLS 1.3 that is resumption,
// visible on the wire whatever the endpoints log.
type tlsRelay struct {
	ln     net.Listener
	addr   string
	mu     sync.Mutex
	target string
	conns  []*relayed
	wg     sync.WaitGroup
}

type relayed struct {
	target       string
	mu           sync.Mutex
	fromClient   []byte // the first bytes only: enough for the hellos
	fromServer   []byte
	clientClosed bool
	serverClosed bool
}

const relayKeep = 64 << 10

func startTLSRelay(t testing.TB) *tlsRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tlsRelay{ln: ln, addr: ln.Addr().String()}
	var open sync.Map // net.Conn -> struct{}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			rc := &relayed{target: r.target}
			r.conns = append(r.conns, rc)
			r.mu.Unlock()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer c.Close()
				open.Store(c, struct{}{})
				defer open.Delete(c)
				s, err := net.DialTimeout("tcp", rc.target, ioTimeout)
				if err != nil {
					return
				}
				defer s.Close()
				open.Store(s, struct{}{})
				defer open.Delete(s)
				var both sync.WaitGroup
				both.Add(2)
				go func() { defer both.Done(); rc.copy(s, c, &rc.fromClient) }()
				go func() { defer both.Done(); rc.copy(c, s, &rc.fromServer) }()
				both.Wait()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		open.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("tls relay: still copying 10s after close")
		}
	})
	return r
}

func (r *tlsRelay) setTarget(addr string) {
	r.mu.Lock()
	r.target = addr
	r.mu.Unlock()
}

func (r *tlsRelay) connections() []*relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*relayed(nil), r.conns...)
}

func (rc *relayed) copy(dst, src net.Conn, keep *[]byte) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			rc.mu.Lock()
			if room := relayKeep - len(*keep); room > 0 {
				*keep = append(*keep, buf[:min(n, room)]...)
			}
			rc.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeWrite(dst)
}

// hellos reports the pre_shared_key extension of the ClientHello and of
// the ServerHello seen so far; ok is false until both were read.
func (rc *relayed) hellos() (clientPSK, serverPSK, ok bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ch, ok1 := firstHandshake(rc.fromClient, 1)
	sh, ok2 := firstHandshake(rc.fromServer, 2)
	if !ok1 || !ok2 {
		return false, false, false
	}
	return helloHasExtension(ch, true, extPreSharedKey), helloHasExtension(sh, false, extPreSharedKey), true
}

const extPreSharedKey = 41

// firstHandshake returns the body of the first handshake message, if it is
// of type typ and complete, from a stream of TLS records.
func firstHandshake(stream []byte, typ byte) ([]byte, bool) {
	var hs []byte
	for len(stream) >= 5 {
		if stream[0] != 22 { // handshake records come first
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(stream[3:5]))
		if len(stream) < 5+n {
			break
		}
		hs = append(hs, stream[5:5+n]...)
		stream = stream[5+n:]
		if len(hs) >= 4 {
			l := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if len(hs) >= 4+l {
				if hs[0] != typ {
					return nil, false
				}
				return hs[4 : 4+l], true
			}
		}
	}
	return nil, false
}

// helloHasExtension parses a ClientHello or ServerHello body.
func helloHasExtension(body []byte, client bool, ext uint16) bool {
	p := body
	skip := func(n int) bool {
		if len(p) < n {
			return false
		}
		p = p[n:]
		return true
	}
	vec := func(lenBytes int) bool {
		if len(p) < lenBytes {
			return false
		}
		n := 0
		for _, b := range p[:lenBytes] {
			n = n<<8 | int(b)
		}
		return skip(lenBytes + n)
	}
	if !skip(2+32) || !vec(1) { // version, random, session id
		return false
	}
	if client {
		if !vec(2) || !vec(1) { // cipher suites, compression methods
			return false
		}
	} else if !skip(2 + 1) { // cipher suite, compression method
		return false
	}
	if len(p) < 2 {
		return false
	}
	exts := p[2:]
	for len(exts) >= 4 {
		typ := binary.BigEndian.Uint16(exts[0:2])
		n := int(binary.BigEndian.Uint16(exts[2:4]))
		if typ == ext {
			return true
		}
		if len(exts) < 4+n {
			return false
		}
		exts = exts[4+n:]
	}
	return false
}
