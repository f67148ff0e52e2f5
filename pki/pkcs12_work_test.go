package pki

import (
	"encoding/asn1"
	"strings"
	"testing"
	"time"
)

// pfxShape is the outer PFX, enough to rewrite its MAC's iteration count.
type pfxShape struct {
	Version  int
	AuthSafe asn1.RawValue
	MacData  struct {
		Mac        asn1.RawValue
		Salt       []byte
		Iterations int
	}
}

// withMACIterations returns p12 with its MAC asking for n iterations.
func withMACIterations(t *testing.T, p12 []byte, n int) []byte {
	t.Helper()
	var pfx pfxShape
	if _, err := asn1.Unmarshal(p12, &pfx); err != nil {
		t.Fatalf("parse PFX: %v", err)
	}
	pfx.MacData.Iterations = n
	out, err := asn1.Marshal(pfx)
	if err != nil {
		t.Fatalf("marshal PFX: %v", err)
	}
	return out
}

// A .p12 whose MAC asks for 2^31-1 iterations is refused at once; without
// the bound, go-pkcs12 would derive the MAC key for hours.
func TestPKCS12IterationBound(t *testing.T) {
	ca := newTestCA(t, "p12 work")
	real := p12Of(t, issued(t, ca), testKeyPassword)
	// The rewrite itself is sound: with a modest count the file gets as
	// far as checking its MAC, which the new count no longer matches.
	cheap := writeFile(t, "cheap.p12", withMACIterations(t, real, 4096))
	if _, err := (identityFiles{p12: cheap, pass: secret(testKeyPassword)}).load(); err == nil ||
		!strings.Contains(err.Error(), "wrong key_passphrase") {
		t.Fatalf("a rewritten file with 4096 MAC iterations: %v; want its MAC to fail", err)
	}
	file := writeFile(t, "costly.p12", withMACIterations(t, real, 1<<31-1))
	done := make(chan error, 1)
	go func() {
		_, err := identityFiles{p12: file, pass: secret(testKeyPassword)}.load()
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "iterations") || !strings.Contains(err.Error(), file) {
			t.Fatalf("error %v: want the iteration bound and the file", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("loading a .p12 asking for 2^31-1 iterations did not return in 20 s")
	}
}
