package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// ioBound bounds every single read or write of the load tests.
const ioBound = 30 * time.Second

// clientTLS dials the proxies under test: client certificate, the bench CA,
// TLS 1.3 only, no session cache (every handshake is a full one), and
// X25519 alone, the group every proxy here picks (Go would otherwise offer
// X25519MLKEM768, which only passtunnel accepts).
func (h *harness) clientTLS(withCert bool) *tls.Config {
	cfg := &tls.Config{
		RootCAs:          h.certs.pool,
		ServerName:       "localhost",
		MinVersion:       tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519},
	}
	if withCert {
		cfg.Certificates = []tls.Certificate{h.certs.client}
	}
	return cfg
}

func dialTLS(addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: ioBound}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// echoOnce writes msg and reads it back, bounded.
func echoOnce(c net.Conn, msg, buf []byte) error {
	c.SetDeadline(time.Now().Add(ioBound))
	if _, err := c.Write(msg); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, buf[:len(msg)]); err != nil {
		return err
	}
	return nil
}

// throughput sends streams x each bytes through the proxy at addr into the
// sink, and returns MB/s (10^6 bytes) and the proxy's CPU seconds per GB
// (10^9 bytes), from the first byte until the sink has counted them all.
func (h *harness) throughput(p *proxy, streams int, each int64) (mbps, cpuPerGB float64, err error) {
	conns := make([]*tls.Conn, streams)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		if conns[i], err = dialTLS(p.addrs[0], h.clientTLS(true)); err != nil {
			return 0, 0, err
		}
	}
	want := h.sink.total.Load() + int64(streams)*each
	cpu0, err := cpuSeconds(p.pid())
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	errs := make(chan error, streams)
	for _, c := range conns {
		go func() {
			buf := make([]byte, 256<<10)
			for left := each; left > 0; {
				n := min(left, int64(len(buf)))
				c.SetWriteDeadline(time.Now().Add(ioBound))
				if _, err := c.Write(buf[:n]); err != nil {
					errs <- err
					return
				}
				left -= n
			}
			errs <- nil
		}()
	}
	for range streams {
		if err := <-errs; err != nil {
			return 0, 0, fmt.Errorf("write: %w", err)
		}
	}
	for deadline := time.Now().Add(ioBound); h.sink.total.Load() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("sink got %d of %d bytes", h.sink.total.Load()-want+int64(streams)*each, int64(streams)*each)
		}
	}
	elapsed := time.Since(start).Seconds()
	cpu1, err := cpuSeconds(p.pid())
	if err != nil {
		return 0, 0, err
	}
	total := float64(int64(streams) * each)
	return total / 1e6 / elapsed, (cpu1 - cpu0) / (total / 1e9), nil
}

// handshakes makes n full mTLS handshakes with conc dialers, each followed
// by a one-byte echo (so the proxy has accepted the client certificate and
// reached the backend) and a close. It returns handshakes per second and
// the proxy's CPU milliseconds per handshake.
func (h *harness) handshakes(p *proxy, n, conc int) (perSec, cpuMs float64, err error) {
	cfg := h.clientTLS(true)
	cpu0, err := cpuSeconds(p.pid())
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	buf := make([]byte, conc)
	err = inParallel(conc, n, func(w int) error {
		c, err := dialTLS(p.addrs[0], cfg)
		if err == nil {
			err = echoOnce(c, []byte{'x'}, buf[w:w+1])
			c.Close()
		}
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	elapsed := time.Since(start).Seconds()
	cpu1, err := cpuSeconds(p.pid())
	if err != nil {
		return 0, 0, err
	}
	return float64(n) / elapsed, (cpu1 - cpu0) * 1000 / float64(n), nil
}

// inParallel calls one n times in all, from conc goroutines (one gets its
// worker number w), and stops at the first error, which it returns.
func inParallel(conc, n int, one func(w int) error) error {
	var next atomic.Int64
	errs := make(chan error, conc)
	for w := range conc {
		go func() {
			for next.Add(1) <= int64(n) {
				if err := one(w); err != nil {
					next.Store(int64(n)) // the others stop too
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range conc {
		first = cmp(first, <-errs)
	}
	return first
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// percentile of sorted xs, nearest rank.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(q*float64(len(xs))+0.5) - 1
	return xs[max(0, min(i, len(xs)-1))]
}

// mustRefuse checks the proxy enforces what it was configured with: a
// client without a certificate, or one capped at TLS 1.2, gets no echo.
func (h *harness) mustRefuse(p *proxy) error {
	noCert := h.clientTLS(false)
	tls12 := h.clientTLS(true)
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	for name, cfg := range map[string]*tls.Config{"without a client certificate": noCert, "with TLS 1.2": tls12} {
		c, err := dialTLS(p.addrs[0], cfg)
		if err != nil {
			continue // refused during the handshake
		}
		err = echoOnce(c, []byte("x"), make([]byte, 1))
		c.Close()
		if err == nil {
			return errors.New("a client " + name + " got through")
		}
	}
	return nil
}
