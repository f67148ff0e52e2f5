package pki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSP stapling for certificates from files: when the leaf names an OCSP
// responder and its issuer is in the chain, a response is fetched in the
// background and sent in every handshake, so clients that check
// revocation need not ask the CA themselves. It is refreshed half-way to
// its NextUpdate; a failed fetch keeps the last good response until it
// expires, and is logged.

const (
	ocspFetchTimeout = 10 * time.Second
	ocspMaxResponse  = 1 << 20
	ocspRetryFirst   = 5 * time.Second
	ocspRetryMax     = 5 * time.Minute
	ocspNoNextUpdate = time.Hour // refresh a response without NextUpdate hourly
	ocspMinRefresh   = time.Minute
)

// stapler keeps the OCSP staple of one pairSource's certificate current.
type stapler struct {
	src    *pairSource
	client *http.Client
	kick   chan struct{}
	done   chan struct{}
	stop   func()
	wg     sync.WaitGroup
}

func startStapler(src *pairSource) *stapler {
	done := make(chan struct{})
	st := &stapler{src: src, client: &http.Client{Timeout: ocspFetchTimeout},
		kick: make(chan struct{}, 1), done: done}
	st.stop = sync.OnceFunc(func() { close(done); st.wg.Wait() })
	st.wg.Add(1)
	go st.run()
	return st
}

// changed tells the stapler that the certificate was replaced.
func (st *stapler) changed() {
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

func (st *stapler) run() {
	defer st.wg.Done()
	retry := ocspRetryFirst
	var expires time.Time // of the staple in use
	for {
		wait := time.Duration(-1) // until the certificate changes
		cert := st.src.certificate()
		if issuer := ocspIssuer(cert); issuer != nil {
			resp, err := st.fetch(cert.Leaf, issuer)
			switch {
			case err == nil:
				st.install(cert, resp.Raw)
				expires, retry = resp.NextUpdate, ocspRetryFirst
				wait = refreshIn(resp, time.Now())
			default:
				st.src.log.Warn("OCSP staple not refreshed; the last good one is kept until it expires",
					"tunnel", st.src.tunnel, "responder", cert.Leaf.OCSPServer[0], "reason", err.Error())
				if !expires.IsZero() && time.Now().After(expires) {
					st.install(cert, nil) // an expired staple fails clients that check it
				}
				wait, retry = retry, min(2*retry, ocspRetryMax)
			}
		}
		if !st.sleep(wait) {
			return
		}
	}
}

// sleep waits d (forever when negative) or until the certificate changes;
// false means stop.
func (st *stapler) sleep(d time.Duration) bool {
	var timer <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-st.done:
		return false
	case <-st.kick:
	case <-timer:
	}
	return true
}

// refreshIn is half-way from now to the response's NextUpdate.
func refreshIn(resp *ocsp.Response, now time.Time) time.Duration {
	if resp.NextUpdate.IsZero() {
		return ocspNoNextUpdate
	}
	return max(resp.NextUpdate.Sub(now)/2, ocspMinRefresh)
}

// ocspIssuer is the issuer of cert's leaf from its chain, when the leaf
// names an OCSP responder; nil means no stapling.
func ocspIssuer(cert *tls.Certificate) *x509.Certificate {
	if cert == nil || cert.Leaf == nil || len(cert.Leaf.OCSPServer) == 0 {
		return nil
	}
	for _, der := range cert.Certificate[1:] {
		c, err := x509.ParseCertificate(der)
		if err == nil && bytes.Equal(cert.Leaf.RawIssuer, c.RawSubject) && cert.Leaf.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

// fetch asks the leaf's first responder, within ocspFetchTimeout, and
// accepts only a good status signed for this certificate.
func (st *stapler) fetch(leaf, issuer *x509.Certificate) (*ocsp.Response, error) {
	req, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ocspFetchTimeout)
	defer cancel()
	go func() {
		select {
		case <-st.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, leaf.OCSPServer[0], bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	hresp, err := st.client.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("responder answered HTTP %s", hresp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(hresp.Body, ocspMaxResponse))
	if err != nil {
		return nil, err
	}
	resp, err := ocsp.ParseResponseForCert(body, leaf, issuer)
	if err != nil {
		return nil, fmt.Errorf("bad response: %w", err)
	}
	switch resp.Status {
	case ocsp.Good:
		return resp, nil
	case ocsp.Revoked:
		return nil, errors.New("the responder says the certificate is REVOKED: replace it")
	}
	return nil, errors.New("the responder does not know the certificate")
}

// install sets staple on the certificate in use if it is still cert: a
// certificate reloaded meanwhile gets its own.
func (st *stapler) install(cert *tls.Certificate, staple []byte) {
	next := *cert
	next.OCSPStaple = staple
	if st.src.cur.CompareAndSwap(cert, &next) && staple != nil {
		st.src.log.Info("OCSP staple refreshed", "tunnel", st.src.tunnel, "fingerprint", Fingerprint(cert.Leaf.Raw))
	}
}
