package pki

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// Node certificates are re-issued after 2/3 of their life, and handshakes
// go on working once the first one has expired.
func TestNodeCertRenewal(t *testing.T) {
	clock := &fakeClock{now: time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)}
	opts := Options{NodeName: "srv", NodeValidity: time.Hour, Now: clock.Now}
	srvM := newTestManager(opts)
	opts.NodeName = "cli"
	cliM := newTestManager(opts)
	srv := serverConfig(t, srvM, ptunnel(config.ModeServer, pass1))
	cli := clientConfig(t, cliM, ptunnel(config.ModeClient, pass1))

	r := handshake(t, srv, cli)
	if !r.ok() {
		t.Fatalf("first: server %v, client %v", r.serverErr, r.clientErr)
	}
	first := r.client.PeerCertificates[0]
	if !first.NotAfter.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("NotAfter %v, want now+1h", first.NotAfter)
	}

	clock.Advance(30 * time.Minute) // before 2/3: the same certificate
	if r = handshake(t, srv, cli); !r.ok() {
		t.Fatalf("at 30m: server %v, client %v", r.serverErr, r.clientErr)
	}
	if !r.client.PeerCertificates[0].Equal(first) {
		t.Error("certificate re-issued before 2/3 of its life")
	}

	clock.Advance(90 * time.Minute) // the first certificate expired
	verify := nodeChains([]*ClusterCA{derivedCA(t, pass1, "test")}, x509.ExtKeyUsageServerAuth, clock.Now)
	if _, err := verify([]*x509.Certificate{first}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate: %v", err)
	}
	for i := range 2 {
		r = handshake(t, srv, cli)
		if !r.ok() {
			t.Fatalf("after expiry #%d: server %v, client %v", i, r.serverErr, r.clientErr)
		}
		got := r.client.PeerCertificates[0]
		if got.SerialNumber.Cmp(first.SerialNumber) == 0 || !got.NotAfter.Equal(clock.Now().Add(time.Hour)) {
			t.Errorf("#%d: not re-issued: NotAfter %v", i, got.NotAfter)
		}
		if r.server.PeerCertificates[0].NotAfter.Before(clock.Now()) {
			t.Errorf("#%d: client presented an expired certificate", i)
		}
	}
}

// A ticket stays good for the next key window (another node, a day later,
// with a session_lifetime that long) and is dropped, not fatal, after that.
func TestTicketKeyWindows(t *testing.T) {
	clock := &fakeClock{now: time.Date(2031, 5, 1, 1, 0, 0, 0, time.UTC)} // key windows start at 00:00 UTC
	opts := Options{NodeName: "x", NodeValidity: 100 * time.Hour, Now: clock.Now}
	week := ptunnel(config.ModeServer, pass1)
	week.TLS = &config.TLS{SessionLifetime: config.MaxSessionLifetime}
	x := serverConfig(t, newTestManager(opts), week)
	y := serverConfig(t, newTestManager(opts), week)
	cli := clientConfig(t, newTestManager(opts), ptunnel(config.ModeClient, pass1))
	if r := handshake(t, x, cli); !r.ok() {
		t.Fatalf("first: server %v, client %v", r.serverErr, r.clientErr)
	}
	clock.Advance(25 * time.Hour)
	if r := handshake(t, y, cli); !r.ok() || !r.server.DidResume {
		t.Errorf("a window later: resumed %v, server %v, client %v", r.server.DidResume, r.serverErr, r.clientErr)
	}
	clock.Advance(48 * time.Hour)
	if r := handshake(t, x, cli); !r.ok() || r.server.DidResume {
		t.Errorf("two windows later: resumed %v, server %v, client %v", r.server.DidResume, r.serverErr, r.clientErr)
	}
}
