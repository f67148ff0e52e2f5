package proxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// The benchmarks run the tunnel under test in a child process (this test
// binary, re-executed), as integration/bench runs the binary: its CPU time
// and memory are then the tunnel's alone, and every hop crosses processes
// and wakes the runtime the way it does in production. The child serves one
// server tunnel with certificate files, its TLS config made by pki.Manager
// as the binary makes it (TLS 1.3 only, client certificates required; the
// log is discarded), prints its
// address, answers each "mem" line on stdin with its memory figures, and
// exits when stdin closes.
//
// PASSTUNNEL_BENCH_CPUPROFILE=file and PASSTUNNEL_BENCH_HEAPPROFILE=file
// make the child write those profiles of itself (go tool pprof
// proxy.test file); PASSTUNNEL_BENCH_WRAP="strace -f -c -o file" runs it
// under that command (its CPU figures then include the wrapper's).

// benchChild is a running child tunnel.
type benchChild struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	addr string
	cli  *tls.Config // what clients dial the child with
}

// startBenchChild writes a fresh PKI for a child tunnel to target, starts
// it, and stops it when b ends.
func startBenchChild(b *testing.B, target string) *benchChild {
	b.Helper()
	p := pkitest.NewPKI(b)
	dir := b.TempDir()
	writePEM(b, filepath.Join(dir, "ca.pem"), "CERTIFICATE", p.CA.Raw)
	srv := p.Leaf(b, "server", nil)
	writePEM(b, filepath.Join(dir, "srv.pem"), "CERTIFICATE", srv.Certificate[0])
	key, err := x509.MarshalPKCS8PrivateKey(srv.PrivateKey)
	if err != nil {
		b.Fatal(err)
	}
	writePEM(b, filepath.Join(dir, "key.pem"), "PRIVATE KEY", key)

	args := []string{os.Args[0], "-test.run=^$", "-test.bench=^$"}
	if wrap := os.Getenv("PASSTUNNEL_BENCH_WRAP"); wrap != "" {
		args = append(strings.Fields(wrap), args...) // "strace -f -c -o file", "perf record -g -o file"
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "PASSTUNNEL_BENCH_CHILD="+dir, "PASSTUNNEL_BENCH_TARGET="+target)
	cmd.Stderr = os.Stderr
	c := &benchChild{cmd: cmd}
	if c.in, err = cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.in.Close(); cmd.Wait() })
	c.out = bufio.NewScanner(out)
	c.addr = c.line(b, "addr")[0]
	c.cli = p.ClientTLS(b)
	// As the harness dials: TLS 1.3, X25519 alone, no session cache.
	c.cli.MinVersion = tls.VersionTLS13
	c.cli.CurvePreferences = []tls.CurveID{tls.X25519}
	return c
}

// line returns the fields after key of the child's next line starting
// with it.
func (c *benchChild) line(b *testing.B, key string) []string {
	for c.out.Scan() {
		if f := strings.Fields(c.out.Text()); len(f) > 1 && f[0] == key {
			return f[1:]
		}
	}
	b.Fatalf("child ended before printing %q: %v", key, c.out.Err())
	return nil
}

// mem returns the child's RSS (read before forcing a GC), and its heap in
// use, goroutine stacks in use and goroutine count after one.
func (c *benchChild) mem(b *testing.B) (rss, heap, stack, goroutines float64) {
	if _, err := io.WriteString(c.in, "mem\n"); err != nil {
		b.Fatal(err)
	}
	var v [4]float64
	for i, f := range c.line(b, "mem") {
		v[i], _ = strconv.ParseFloat(f, 64)
	}
	return v[0], v[1], v[2], v[3]
}

// cpu is the child's user plus system CPU time in seconds, all threads.
func (c *benchChild) cpu(b *testing.B) float64 {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		b.Skip("no /proc: cannot read the tunnel's CPU time")
	}
	f := strings.Fields(string(s[strings.LastIndexByte(string(s), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// runBenchChild is the child's main (see TestMain): it returns the exit
// code.
func runBenchChild(dir string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "bench child:", err); return 1 }
	if os.Getenv("PASSTUNNEL_BENCH_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 4096 // the default misses most small objects
	}
	if path := os.Getenv("PASSTUNNEL_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// The server config comes from pki.Manager, as the binary builds it
	// (chain check in VerifyConnection, resumption guard, hot reload).
	m := pki.NewManager(pki.Options{})
	srv, err := m.Server(&config.Tunnel{Name: "bench", Mode: config.ModeServer, TLS: &config.TLS{
		Cert: filepath.Join(dir, "srv.pem"), Key: filepath.Join(dir, "key.pem"), CA: filepath.Join(dir, "ca.pem"),
		ClientAuth: "require", MinVersion: "1.3", MaxVersion: "1.3",
	}})
	if err != nil {
		return fail(err)
	}
	srvTLS := srv.Config
	limits := testLimits()
	limits.MaxConnections = 20000 // as the harness configures every proxy
	tun, err := Listen(Options{
		Name: "bench", Mode: ModeServer, Listen: tcpAddr("127.0.0.1:0"),
		Target: tcpAddr(os.Getenv("PASSTUNNEL_BENCH_TARGET")), Limits: limits, TLS: srvTLS,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return fail(err)
	}
	go tun.Serve()
	fmt.Printf("addr %s\n", tun.Addr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		rss := selfRSS()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("mem %d %d %d %d\n", rss, ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine())
		if path := os.Getenv("PASSTUNNEL_BENCH_HEAPPROFILE"); path != "" {
			writeProfile(path, "heap")
		}
	}
	// stdin closed: the parent is done. The exit closes the tunnel and
	// whatever connections the parent left open, without a drain.
	return 0
}

func writeProfile(path, name string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup(name).WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
	}
}

// selfRSS is this process's VmRSS in bytes.
func selfRSS() uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func writePEM(b *testing.B, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		b.Fatal(err)
	}
}
