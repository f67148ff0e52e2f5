package pki

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// TestSessionLifetime: a server tunnel resumes a session within
// tls.session_lifetime of its ticket's issue and not after, whatever
// identity it has.
func TestSessionLifetime(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, key := ca.issueFiles(t, "server", serverSpec())
	for _, kind := range []string{"files", "passphrase"} {
		t.Run(kind, func(t *testing.T) {
			clock := &fakeClock{now: time.Now()}
			m := newTestManager(Options{NodeName: "s", Now: clock.Now, NodeValidity: 100 * time.Hour})
			tun := tunnel(config.ModeServer, &config.TLS{Cert: cert, Key: key, ClientAuth: "none", SessionLifetime: time.Hour})
			cli := &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
			if kind == "passphrase" {
				tun = ptunnel(config.ModeServer, pass1)
				tun.TLS = &config.TLS{SessionLifetime: time.Hour}
				node, err := derivedCA(t, pass1, "test").IssueNode("c", 100*time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				cli.Certificates = []tls.Certificate{node}
			}
			srv := serverConfig(t, m, tun)
			expectResumption(t, srv, cli, true)
			clock.Advance(59 * time.Minute)
			if r := handshake(t, srv, cli); !r.ok() || !r.server.DidResume {
				t.Errorf("59 minutes after the ticket: resumed %v (%v, %v)", r.server.DidResume, r.serverErr, r.clientErr)
			}
			clock.Advance(61 * time.Minute) // the ticket of that resumption is 61 minutes old
			if r := handshake(t, srv, cli); !r.ok() || r.server.DidResume {
				t.Errorf("61 minutes after the ticket: resumed %v (%v, %v)", r.server.DidResume, r.serverErr, r.clientErr)
			}
		})
	}
}

// TestTLS12MasterSecretNotRewrapped: a resumed TLS 1.2 connection gets no
// new ticket for the old master secret, which would then outlive
// session_lifetime: every other connection is a full handshake.
func TestTLS12MasterSecretNotRewrapped(t *testing.T) {
	ca := newTestCA(t, "ca")
	cert, key := ca.issueFiles(t, "server", serverSpec())
	srv := serverConfig(t, newTestManager(Options{}), tunnel(config.ModeServer, &config.TLS{Cert: cert, Key: key, ClientAuth: "none"}))
	cli := &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	for i, want := range []bool{false, true, false, true} {
		if r := handshake(t, srv, cli); !r.ok() || r.server.DidResume != want {
			t.Errorf("connection %d: resumed %v, want %v (%v, %v)", i+1, r.server.DidResume, want, r.serverErr, r.clientErr)
		}
	}
}

// TestRandomTicketKeysForgotten: a random ticket key seals tickets for
// half a lifetime, opens them for a lifetime more, and is then dropped.
func TestRandomTicketKeysForgotten(t *testing.T) {
	r := &randomKeys{byWindow: map[int64][32]byte{}}
	first, _ := r.key(10)
	if again, _ := r.key(10); again != first {
		t.Fatal("a window's key changed")
	}
	for _, w := range []int64{11, 12} {
		_, _ = r.key(w)
	}
	if _, ok := r.byWindow[10]; !ok {
		t.Fatal("the key of two windows ago is gone: its tickets may still be in their lifetime")
	}
	_, _ = r.key(13)
	if _, ok := r.byWindow[10]; ok || len(r.byWindow) != 3 {
		t.Fatalf("windows kept %v, want 11 to 13", r.byWindow)
	}
	tk := randomTicketer(2*time.Hour, time.Now)
	if tk.window != time.Hour {
		t.Errorf("window %v for a lifetime of 2h, want 1h", tk.window)
	}
}
