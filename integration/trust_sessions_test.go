package integration

import (
	"bufio"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// recordingCache is a client session cache that keeps every session it is
// given: what a recording of the handshake shows of the tickets.
type recordingCache struct {
	mu       sync.Mutex
	sessions []*tls.ClientSessionState
}

func (r *recordingCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }

func (r *recordingCache) Put(_ string, cs *tls.ClientSessionState) {
	if cs == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions = append(r.sessions, cs)
}

// tickets are the non-empty tickets the cache was given.
func (r *recordingCache) tickets(t *testing.T) [][]byte {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for _, cs := range r.sessions {
		ticket, _, err := cs.ResumptionState()
		if err != nil {
			t.Fatal(err)
		}
		if len(ticket) > 0 {
			out = append(out, ticket)
		}
	}
	return out
}

// passphraseTicketKeys are the session ticket keys of a passphrase
// cluster around now, derived as the design describes: what an attacker
// who learned the passphrase computes.
func passphraseTicketKeys(t *testing.T, passphrase, cluster string) *tls.Config {
	t.Helper()
	seed := argon2.IDKey([]byte(passphrase), []byte("passtunnel/v1/"+cluster), 3, 64*1024, 4, 32)
	window := time.Now().Unix() / int64(24*time.Hour/time.Second)
	var keys [][32]byte
	for _, w := range []int64{window, window - 1, window + 1} {
		k, err := hkdf.Key(sha256.New, seed, nil, fmt.Sprintf("passtunnel/v1/ticket/%d", w), 32)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, [32]byte(k))
	}
	cfg := &tls.Config{}
	cfg.SetSessionTicketKeys(keys)
	return cfg
}

// TestTicketsUnderThePassphrase: a TLS 1.2 session ticket carries the
// master secret, sent before the handshake is encrypted. A recording of a
// passphrase tunnel's TLS 1.2 handshakes plus the passphrase, learned
// later, must not give one away: no TLS 1.2 ticket is sealed with the
// cluster's derived keys (nor resumed). A TLS 1.3 ticket, sent encrypted
// and only resumed with a fresh key exchange, is, which is how sessions
// resume across the nodes of a cluster: it is the test's proof that the
// derivation above finds the keys.
func TestTicketsUnderThePassphrase(t *testing.T) {
	passphraseTest(t)
	pass, pf := passFile(t)
	be := startEcho(t)
	srv := startPassRun(t, nil, ptun{name: "s", mode: "server", listen: "127.0.0.1:0", target: be.addr,
		passphrase: pf, extra: "  tls { min_version = \"1.2\" }\n"})
	id := pkiIssue(t, pf, "it-recorder")
	keys := passphraseTicketKeys(t, pass, "passtunnel")
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cache := &recordingCache{}
		cfg := &tls.Config{Certificates: []tls.Certificate{id.pair(t)}, InsecureSkipVerify: true,
			MinVersion: v, MaxVersion: v, ClientSessionCache: cache}
		for range 2 {
			c := dialTLS(t, srv.listenAddr(t, "s"), cfg)
			roundTrip(t, c, bufio.NewReader(c), "record me", "record me") // reads the TLS 1.3 tickets too
			if v == tls.VersionTLS12 && c.ConnectionState().DidResume {
				t.Error("a TLS 1.2 session resumed")
			}
			c.Close()
		}
		opened := 0
		for _, ticket := range cache.tickets(t) {
			if ss, err := keys.DecryptTicket(ticket, tls.ConnectionState{}); err == nil && ss != nil {
				opened++
			}
		}
		switch {
		case v == tls.VersionTLS12 && opened > 0:
			t.Errorf("TLS 1.2: the passphrase opens %d recorded tickets, and with them their master secrets", opened)
		case v == tls.VersionTLS13 && opened == 0:
			t.Error("TLS 1.3: no ticket opened with the derived keys: the derivation in this test is wrong")
		}
	}
}

// TestFileTunnelSessions: a file-certificate server tunnel accepts a
// ticket for at most session_lifetime, and offers TLS 1.2 peers only the
// forward-secret AEAD suites unless told otherwise (no CBC-SHA1).
func TestFileTunnelSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	short := strings.Replace(f.serverTun("short", "127.0.0.1:0", be.addr).hcl(), "  tls {\n", "  tls {\n    session_lifetime = \"1s\"\n", 1)
	srv := runText(t, configBlocks(f.serverTun("default", "127.0.0.1:0", be.addr).hcl(), short), nil)

	resumed := func(tunnel string, cfg *tls.Config) bool {
		c := dialTLS(t, srv.listenAddr(t, tunnel), cfg)
		defer c.Close()
		roundTrip(t, c, bufio.NewReader(c), "ping", "ping")
		return c.ConnectionState().DidResume
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := f.clientTLS(f.client)
		cfg.MinVersion, cfg.MaxVersion = v, v
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		resumed("short", cfg)
		if !resumed("short", cfg) {
			t.Fatalf("%s: the session did not resume within session_lifetime", tls.VersionName(v))
		}
		issued := time.Now()
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		resumed("short", cfg) // a fresh ticket, issued now
		time.Sleep(time.Until(issued.Add(1100 * time.Millisecond)))
		if resumed("short", cfg) {
			t.Errorf("%s: a ticket older than session_lifetime = 1s resumed", tls.VersionName(v))
		}
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA} {
		cfg := f.clientTLS(f.client)
		cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, []uint16{suite}
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", srv.listenAddr(t, "default"), cfg)
		if err == nil {
			c.Close()
			t.Errorf("TLS 1.2 with %s was accepted by default", tls.CipherSuiteName(suite))
		}
	}
}
