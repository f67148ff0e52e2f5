package main

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testlog"
)

// TestSoakShort runs the whole soak, small and short, against a binary
// built from this module: the mix, the reloads, the settling and the
// table, with the exit rule of a long run (RSS reported only: the wait
// for the daemon's garbage collection would take minutes).
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs passtunnel under load for half a minute")
	}
	var errOut testlog.Buffer
	opt, err := parseFlags([]string{"-duration", "15s", "-warmup", "5s", "-reload", "1s", "-conns", "4",
		"-max-size", "262144", "-gc-wait=false"}, &errOut)
	if err != nil {
		t.Fatalf("flags: %v: %s", err, errOut.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out testlog.Buffer
	code := run(ctx, opt, &out, &errOut)
	t.Logf("progress:\n%s\ntable:\n%s", errOut.String(), out.String())
	if code != 0 {
		t.Fatalf("soak exited %d, want 0", code)
	}
	for _, want := range []string{"| bytes lost | 0 |", "| bytes corrupted | 0 |", "| failures, unexpected | 0 |",
		"| goroutines, start → end |", "| open fds, start → end |", "| RSS, start → end |", "**PASS**"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table without %q", want)
		}
	}
	if !strings.Contains(out.String(), "failures, expected: "+faultReset) {
		t.Errorf("table shows no injected %q: the faults did not run", faultReset)
	}
}

// TestCheckerCountsLostAndCorrupted holds the counting the verdicts rest
// on: a byte flipped is one corrupted byte, a stream cut short loses the
// rest, and bytes past the payload's end are corrupted too.
func TestCheckerCountsLostAndCorrupted(t *testing.T) {
	const n = 100_000
	sent := make([]byte, n)
	newPayload(7, 1, dirResponse, n).Read(sent)

	whole := newChecker(newPayload(7, 1, dirResponse, n), n)
	whole.Write(sent)
	if whole.corrupted != 0 || whole.lost() != 0 || whole.checked() != n {
		t.Errorf("intact stream: corrupted %d, lost %d, checked %d", whole.corrupted, whole.lost(), whole.checked())
	}

	damaged := append([]byte(nil), sent[:n-10]...)
	damaged[12345] ^= 0x40
	c := newChecker(newPayload(7, 1, dirResponse, n), n)
	for rest := damaged; len(rest) > 0; { // in pieces, as reads deliver it
		k := min(len(rest), 1+rand.IntN(5000))
		c.Write(rest[:k])
		rest = rest[k:]
	}
	if c.corrupted != 1 || c.lost() != 10 {
		t.Errorf("one byte flipped, 10 missing: corrupted %d, lost %d", c.corrupted, c.lost())
	}
	if c.digest() == whole.digest() {
		t.Error("the digest of a damaged stream equals the intact one's")
	}

	long := newChecker(newPayload(7, 1, dirResponse, n), n)
	long.Write(append(sent, 1, 2, 3))
	if long.corrupted != 3 || long.lost() != 0 {
		t.Errorf("3 bytes past the end: corrupted %d, lost %d", long.corrupted, long.lost())
	}
}

// TestVerdictOfShortReply: a healthy transfer whose reply ended early
// with a clean end of stream is lost bytes, never a pass.
func TestVerdictOfShortReply(t *testing.T) {
	h := header{id: 9, mode: clientFirst, seed: 3, reqLen: 10, respLen: 1000}
	out := newSender(newPayload(h.seed, h.id, dirRequest, h.reqLen), rand.New(rand.NewPCG(1, 2)))
	out.sendN(new(strings.Builder), -1, make([]byte, 64))
	in := newChecker(newPayload(h.seed, h.id, dirResponse, h.respLen), h.respLen)
	reply := make([]byte, 600)
	newPayload(h.seed, h.id, dirResponse, h.respLen).Read(reply)
	in.Write(reply)
	rep := &backendReport{reqGot: 10, reqChecked: 10, reqDigest: out.digest(), respSent: 1000}
	v := transferVerdict{p: plan{kind: connIntegrity, h: h}, cs: clientSide{out: out, in: in}, rep: rep}
	if kind, _ := v.problem(); kind != "lost bytes" {
		t.Errorf("problem = %q, want lost bytes", kind)
	}
	if _, lost, _ := v.bytes(); lost != 400 {
		t.Errorf("lost = %d, want 400", lost)
	}
}
