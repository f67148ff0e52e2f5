package integration

import (
	"crypto/x509"
	"encoding/pem"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// pebble is an in-process Pebble ACME server that really validates
// TLS-ALPN-01: its VA resolves every name to 127.0.0.1 through a test DNS
// server and connects to the port the tunnel under test listens on.
//
// The directory is served before that port is known (the tunnel reports
// it once running, and starts talking ACME at once), so requests wait
// until start has built the CA around the port.
type pebble struct {
	t         testing.TB
	directory string // ACME directory URL
	rootsFile string // PEM of the directory's HTTPS certificate: acme.trusted_roots
	dnsAddr   string
	log       *lineBuffer
	handler   atomic.Pointer[http.Handler]
	ready     chan struct{}
	ca        *ca.CAImpl // set by start
}

func newPebble(t testing.TB) *pebble {
	t.Helper()
	// Read by va.New and wfe.New: validate at once (no random sleeps of
	// up to 15s), and never reject a good nonce (a retry costs a second).
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	p := &pebble{t: t, log: newLineBuffer(), ready: make(chan struct{})}
	p.dnsAddr = startLoopbackDNS(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serveHTTP))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.directory = srv.URL + wfe.DirectoryPath
	p.rootsFile = writeFile(t, t.TempDir(), "acme-roots.pem",
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble log:\n%s", p.log)
		}
	})
	return p
}

func (p *pebble) serveHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-p.ready:
		(*p.handler.Load()).ServeHTTP(w, r)
	case <-time.After(startTimeout):
		http.Error(w, "pebble not started", http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}

// start builds the CA, whose VA validates TLS-ALPN-01 on tlsAddr's port.
func (p *pebble) start(tlsAddr string) {
	p.t.Helper()
	_, portStr, err := net.SplitHostPort(tlsAddr)
	if err != nil {
		p.t.Fatal(err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		p.t.Fatal(err)
	}
	logger := log.New(p.log, "pebble ", log.Lmicroseconds)
	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{"default": {Description: "default"}}
	p.ca = ca.New(logger, store, "", "ecdsa", 0, 1, profiles)
	v := va.New(logger, 0, port, false, p.dnsAddr, store)
	front := wfe.New(logger, store, v, p.ca, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	h := front.Handler()
	p.handler.Store(&h)
	close(p.ready)
}

// roots is a pool holding Pebble's root: what a client of the tunnel
// trusts to verify the certificate Pebble issued.
func (p *pebble) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.GetRootCert(0).Cert)
	return pool
}

// startLoopbackDNS answers every A query with 127.0.0.1 (and AAAA with
// nothing), over TCP as Pebble's VA asks, and returns its address.
func startLoopbackDNS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}
