package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// relay sits between a pair's client side and server side. It splices bytes
// both ways and reads the one thing TLS 1.3 leaves in the clear that tells
// a resumed handshake apart: a pre_shared_key extension in the ServerHello.
type relay struct {
	ln      net.Listener
	mu      sync.Mutex
	target  string
	total   atomic.Int64 // ServerHellos seen
	resumed atomic.Int64 // of which with pre_shared_key
}

func startRelay() (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln}
	go acceptLoop(ln, r.serve)
	return r, nil
}

func (r *relay) setTarget(a string) { r.mu.Lock(); r.target = a; r.mu.Unlock() }

func (r *relay) reset() { r.total.Store(0); r.resumed.Store(0) }

func (r *relay) serve(down net.Conn) {
	r.mu.Lock()
	target := r.target
	r.mu.Unlock()
	up, err := net.DialTimeout("tcp", target, ioBound)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, down); done <- struct{}{} }()
	go func() {
		up.SetReadDeadline(time.Now().Add(ioBound))
		hello, resumed, err := readServerHello(up)
		up.SetReadDeadline(time.Time{})
		if err == nil {
			r.total.Add(1)
			if resumed {
				r.resumed.Add(1)
			}
		}
		if _, werr := down.Write(hello); werr == nil && err == nil {
			io.Copy(down, up)
		}
		done <- struct{}{}
	}()
	<-done // either side finished: the exchange is over, close both
}

// helloRetry is the ServerHello.random of a HelloRetryRequest (RFC 8446).
var helloRetry = []byte{0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C}

const extPreSharedKey = 41

// readServerHello reads TLS records from the server until the ServerHello
// (skipping a HelloRetryRequest and change_cipher_spec), and returns every
// byte it read and whether the server accepted a pre-shared key.
func readServerHello(r io.Reader) (raw []byte, resumed bool, err error) {
	var all bytes.Buffer
	for range 4 {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(r, hdr); err != nil {
			return all.Bytes(), false, err
		}
		body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
		if _, err := io.ReadFull(r, body); err != nil {
			return all.Bytes(), false, err
		}
		all.Write(hdr)
		all.Write(body)
		if hdr[0] == 20 { // change_cipher_spec after a HelloRetryRequest
			continue
		}
		if hdr[0] != 22 || len(body) < 4+2+32+1 || body[0] != 2 {
			return all.Bytes(), false, errors.New("no ServerHello")
		}
		m := body[4:] // legacy_version, random, session_id, suite, compression, extensions
		if bytes.Equal(m[2:34], helloRetry) {
			continue
		}
		m = m[34:]
		if len(m) < 1+int(m[0])+3+2 {
			return all.Bytes(), false, errors.New("short ServerHello")
		}
		m = m[1+int(m[0])+3:]
		ext := m[2:min(len(m), 2+int(binary.BigEndian.Uint16(m)))]
		for len(ext) >= 4 {
			typ, n := binary.BigEndian.Uint16(ext), int(binary.BigEndian.Uint16(ext[2:]))
			if typ == extPreSharedKey {
				return all.Bytes(), true, nil
			}
			ext = ext[min(len(ext), 4+n):]
		}
		return all.Bytes(), false, nil
	}
	return all.Bytes(), false, errors.New("no ServerHello in 4 records")
}

// pairFigures is one pair measurement.
type pairFigures struct {
	perSec     float64 // connections per second
	resumedPct float64 // share of handshakes that resumed
	cpuMs      float64 // the proxy's CPU per connection, both tunnels
}

// pairRate runs one pair variant of kind: after a warm-up that primes any
// session cache, n cleartext connections (connect, 16-byte echo, close) by
// conc dialers through client side -> relay -> server side -> echo.
func (h *harness) pairRate(kind, variant string, n, conc int) (pairFigures, error) {
	r, err := startRelay()
	if err != nil {
		return pairFigures{}, err
	}
	defer r.ln.Close()
	p, err := h.startPair(kind, variant, r.ln.Addr().String(), h.echo.Addr().String(), r.setTarget)
	if err != nil {
		return pairFigures{}, err
	}
	defer p.stop()
	msg := []byte("pair-round-trip!")
	buf := make([]byte, conc*len(msg))
	one := func(w int) error {
		c, err := net.DialTimeout("tcp", p.addrs[0], ioBound)
		if err != nil {
			return err
		}
		defer c.Close()
		return echoOnce(c, msg, buf[w*len(msg):(w+1)*len(msg)])
	}
	if err := inParallel(conc, max(20, conc*4), one); err != nil {
		return pairFigures{}, err
	}
	r.reset()
	cpu0, err := cpuSeconds(p.pid())
	if err != nil {
		return pairFigures{}, err
	}
	start := time.Now()
	if err := inParallel(conc, n, one); err != nil {
		return pairFigures{}, err
	}
	elapsed := time.Since(start).Seconds()
	cpu1, err := cpuSeconds(p.pid())
	if err != nil {
		return pairFigures{}, err
	}
	if r.total.Load() == 0 {
		return pairFigures{}, errors.New("relay saw no ServerHello")
	}
	return pairFigures{
		perSec:     float64(n) / elapsed,
		resumedPct: 100 * float64(r.resumed.Load()) / float64(r.total.Load()),
		cpuMs:      (cpu1 - cpu0) * 1000 / float64(n),
	}, nil
}
