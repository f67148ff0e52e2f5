package pki

import (
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// TestNoResumptionNearCertificateExpiry: a session whose certificates
// expire within the margin is not resumed; the fallback full handshake
// succeeds with fresh certificates, where resuming would have failed
// verification. Before the margin, it resumes.
func TestNoResumptionNearCertificateExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)}
	const validity = time.Hour
	opts := func(name string) Options { return Options{NodeName: name, NodeValidity: validity, Now: clock.Now} }
	srv := serverConfig(t, newTestManager(opts("s")), ptunnel(config.ModeServer, pass1))
	cli := clientConfig(t, newTestManager(opts("c")), ptunnel(config.ModeClient, pass1))

	if r := handshake(t, srv, cli); !r.ok() || r.client.DidResume {
		t.Fatalf("first: resumed %v, server %v, client %v", r.client.DidResume, r.serverErr, r.clientErr)
	}
	clock.Advance(validity / 2)
	if r := handshake(t, srv, cli); !r.ok() || !r.server.DidResume {
		t.Fatalf("half-way: resumed %v, server %v, client %v", r.server.DidResume, r.serverErr, r.clientErr)
	}
	// 15 s before the first certificates expire: inside the margin (30 s
	// for a 1 h certificate), and both nodes renewed theirs long ago.
	clock.Advance(validity/2 - 15*time.Second)
	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("near expiry: server %v, client %v", r.serverErr, r.clientErr)
	}
	if r.server.DidResume {
		t.Fatal("resumed a session whose certificates expire within the margin")
	}
	if leaf := r.server.PeerCertificates[0]; !leaf.NotAfter.After(clock.Now().Add(validity / 2)) {
		t.Errorf("full handshake used an old client certificate (not after %v)", leaf.NotAfter)
	}
}
