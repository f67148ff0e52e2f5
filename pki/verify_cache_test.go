package pki

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// issueChain issues a client leaf from ca and returns it parsed, as a peer
// would present it.
func issueChain(t *testing.T, ca testCA, cn string, validity time.Duration) []*x509.Certificate {
	t.Helper()
	cert, err := ca.Issue(pkitest.LeafSpec{CommonName: cn, Client: true, Validity: validity})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{leaf}
}

func poolOf(cas ...testCA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}

func TestVerifyCacheSkipsRepeatVerification(t *testing.T) {
	ca := newTestCA(t, "ca")
	chain := issueChain(t, ca, "client", time.Hour)
	pool := poolOf(ca)
	c := newVerifyCache()
	calls := 0
	verify := func() ([]*x509.Certificate, error) {
		calls++
		chains, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			return nil, err
		}
		return chains[0], nil
	}
	now := time.Now()
	for i := range 3 {
		if _, err := c.check(pool, chain, now, verify); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	if calls != 1 {
		t.Fatalf("verified %d times for one chain, want 1", calls)
	}
	// Another pool (a CA reload) and a time past the chain's end both miss.
	if _, err := c.check(poolOf(ca), chain, now, verify); err != nil || calls != 2 {
		t.Fatalf("new pool: err %v, %d verifications, want nil and 2", err, calls)
	}
	if _, err := c.check(pool, chain, chain[0].NotAfter.Add(time.Second), verify); err != nil || calls != 3 {
		t.Fatalf("after NotAfter: err %v, %d verifications, want a fresh one (3)", err, calls)
	}
	if _, err := c.check(pool, chain, chain[0].NotBefore.Add(-time.Second), verify); calls != 4 {
		t.Fatalf("before NotBefore: err %v, %d verifications, want a fresh one (4)", err, calls)
	}
}

func TestVerifyCacheKeepsNoFailure(t *testing.T) {
	c := newVerifyCache()
	ca := newTestCA(t, "ca")
	chain := issueChain(t, ca, "client", time.Hour)
	calls := 0
	fail := func() ([]*x509.Certificate, error) { calls++; return nil, x509.UnknownAuthorityError{} }
	for range 2 {
		if _, err := c.check(poolOf(ca), chain, time.Now(), fail); err == nil {
			t.Fatal("a failed verification passed")
		}
	}
	if calls != 2 || len(c.entries) != 0 {
		t.Fatalf("%d verifications and %d entries after two failures, want 2 and 0", calls, len(c.entries))
	}
}

func TestVerifyCacheIsBounded(t *testing.T) {
	c := newVerifyCache()
	ca := newTestCA(t, "ca")
	chain := issueChain(t, ca, "client", time.Hour)
	ok := func() ([]*x509.Certificate, error) { return chain, nil }
	for range verifyCacheSize + 10 {
		if _, err := c.check(x509.NewCertPool(), chain, time.Now(), ok); err != nil { // a new pool each time: a new key
			t.Fatal(err)
		}
	}
	if len(c.entries) > verifyCacheSize {
		t.Fatalf("%d entries, bound is %d", len(c.entries), verifyCacheSize)
	}
}

// The cache must not change a single decision of verifyChain: after a chain
// passed, a CA reload that drops its issuer, the chain's expiry, and another
// certificate with the same names from an untrusted CA are all refused.
func TestVerifyChainWithCacheStillRefuses(t *testing.T) {
	trusted, other := newTestCA(t, "trusted"), newTestCA(t, "other")
	good := issueChain(t, trusted, "client", time.Hour)
	forged := issueChain(t, other, "client", time.Hour)
	pool := poolOf(trusted)
	now := time.Now()
	check := verifyChain(func() *x509.CertPool { return pool }, "", x509.ExtKeyUsageClientAuth, func() time.Time { return now })
	state := func(certs []*x509.Certificate) []*x509.Certificate { return certs }
	for i := range 2 {
		if _, err := check(state(good)); err != nil {
			t.Fatalf("trusted chain, try %d: %v", i, err)
		}
	}
	if _, err := check(state(forged)); err == nil {
		t.Fatal("a certificate from an untrusted CA passed after a trusted one with the same names")
	}
	pool = poolOf(other) // the CA file now holds another CA only
	if _, err := check(state(good)); err == nil {
		t.Fatal("a chain whose CA was removed by a reload still passed")
	}
	pool = poolOf(trusted)
	now = good[0].NotAfter.Add(time.Minute)
	if _, err := check(state(good)); err == nil {
		t.Fatal("an expired chain passed because it had passed before")
	}
}

// BenchmarkVerifyChain is the chain check of a handshake with a client
// certificate seen before (cached) and one verified from scratch, as after
// a CA reload (fresh).
func BenchmarkVerifyChain(b *testing.B) {
	a, err := pkitest.NewAuthority("ca")
	if err != nil {
		b.Fatal(err)
	}
	cert, err := a.Issue(pkitest.LeafSpec{CommonName: "client", Client: true})
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		b.Fatal(err)
	}
	state := []*x509.Certificate{leaf}
	for _, mode := range []string{"cached", "fresh"} {
		b.Run(mode, func(b *testing.B) {
			pool := x509.NewCertPool()
			pool.AddCert(a.Cert)
			roots := func() *x509.CertPool {
				if mode == "fresh" {
					pool = pool.Clone() // a new pool misses the cache
				}
				return pool
			}
			check := verifyChain(roots, "", x509.ExtKeyUsageClientAuth, time.Now)
			for b.Loop() {
				if _, err := check(state); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A chain longer than any real one is refused before path building.
func TestVerifyChainRefusesLongChains(t *testing.T) {
	ca := newTestCA(t, "ca")
	chain := issueChain(t, ca, "client", time.Hour)
	long := append([]*x509.Certificate{}, chain...)
	for len(long) <= maxPeerChain {
		long = append(long, ca.Cert)
	}
	check := verifyChain(fixedPool(poolOf(ca)), "", x509.ExtKeyUsageClientAuth, time.Now)
	if _, err := check(chain); err != nil {
		t.Fatalf("real chain: %v", err)
	}
	if _, err := check(long); err == nil || !strings.Contains(err.Error(), "more than the 10 of any real chain") {
		t.Fatalf("chain of %d: %v", len(long), err)
	}
}
