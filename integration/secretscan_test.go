package integration

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

// The suite-wide secret check: a registry of every passphrase handed to
// passtunnel and of every process the suite ran, scanned by TestMain after
// m.Run.

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
		// A run narrowed by -run to tests that start no process (the
		// docs and layout checks) has nothing to scan; the whole suite
		// always starts some.
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
			fmt.Fprintln(w, "secret scan: no process ran in this -run selection; nothing to scan")
			return true
		}
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
