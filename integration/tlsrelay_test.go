package integration

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// tlsRelay forwards TCP connections to a target that can be switched, and
// records, per connection, whether the ClientHello offered a pre-shared key
// and whether the ServerHello accepted one: in TLS 1.3 that is resumption,
// visible on the wire whatever the endpoints log.
type tlsRelay struct {
	ln     net.Listener
	addr   string
	mu     sync.Mutex
	target string
	conns  []*relayed
	wg     sync.WaitGroup
}

type relayed struct {
	target     string
	mu         sync.Mutex
	fromClient []byte // the first bytes only: enough for the hellos
	fromServer []byte
}

const relayKeep = 64 << 10

func startTLSRelay(t testing.TB) *tlsRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tlsRelay{ln: ln, addr: ln.Addr().String()}
	var open sync.Map // net.Conn -> struct{}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			rc := &relayed{target: r.target}
			r.conns = append(r.conns, rc)
			r.mu.Unlock()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer c.Close()
				open.Store(c, struct{}{})
				defer open.Delete(c)
				s, err := net.DialTimeout("tcp", rc.target, ioTimeout)
				if err != nil {
					return
				}
				defer s.Close()
				open.Store(s, struct{}{})
				defer open.Delete(s)
				var both sync.WaitGroup
				both.Add(2)
				go func() { defer both.Done(); rc.copy(s, c, &rc.fromClient) }()
				go func() { defer both.Done(); rc.copy(c, s, &rc.fromServer) }()
				both.Wait()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		open.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("tls relay: still copying 10s after close")
		}
	})
	return r
}

func (r *tlsRelay) setTarget(addr string) {
	r.mu.Lock()
	r.target = addr
	r.mu.Unlock()
}

func (r *tlsRelay) connections() []*relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*relayed(nil), r.conns...)
}

func (rc *relayed) copy(dst, src net.Conn, keep *[]byte) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			rc.mu.Lock()
			if room := relayKeep - len(*keep); room > 0 {
				*keep = append(*keep, buf[:min(n, room)]...)
			}
			rc.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeWrite(dst)
}

// hellos reports the pre_shared_key extension of the ClientHello and of
// the ServerHello seen so far; ok is false until both were read.
func (rc *relayed) hellos() (clientPSK, serverPSK, ok bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ch, ok1 := firstHandshake(rc.fromClient, 1)
	sh, ok2 := firstHandshake(rc.fromServer, 2)
	if !ok1 || !ok2 {
		return false, false, false
	}
	return helloHasExtension(ch, true, extPreSharedKey), helloHasExtension(sh, false, extPreSharedKey), true
}

const extPreSharedKey = 41

// firstHandshake returns the body of the first handshake message, if it is
// of type typ and complete, from a stream of TLS records.
func firstHandshake(stream []byte, typ byte) ([]byte, bool) {
	var hs []byte
	for len(stream) >= 5 {
		if stream[0] != 22 { // handshake records come first
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(stream[3:5]))
		if len(stream) < 5+n {
			break
		}
		hs = append(hs, stream[5:5+n]...)
		stream = stream[5+n:]
		if len(hs) >= 4 {
			l := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if len(hs) >= 4+l {
				if hs[0] != typ {
					return nil, false
				}
				return hs[4 : 4+l], true
			}
		}
	}
	return nil, false
}

// helloHasExtension parses a ClientHello or ServerHello body.
func helloHasExtension(body []byte, client bool, ext uint16) bool {
	p := body
	skip := func(n int) bool {
		if len(p) < n {
			return false
		}
		p = p[n:]
		return true
	}
	vec := func(lenBytes int) bool {
		if len(p) < lenBytes {
			return false
		}
		n := 0
		for _, b := range p[:lenBytes] {
			n = n<<8 | int(b)
		}
		return skip(lenBytes + n)
	}
	if !skip(2+32) || !vec(1) { // version, random, session id
		return false
	}
	if client {
		if !vec(2) || !vec(1) { // cipher suites, compression methods
			return false
		}
	} else if !skip(2 + 1) { // cipher suite, compression method
		return false
	}
	if len(p) < 2 {
		return false
	}
	exts := p[2:]
	for len(exts) >= 4 {
		typ := binary.BigEndian.Uint16(exts[0:2])
		n := int(binary.BigEndian.Uint16(exts[2:4]))
		if typ == ext {
			return true
		}
		if len(exts) < 4+n {
			return false
		}
		exts = exts[4+n:]
	}
	return false
}
