package proxy

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// dnsServer is a DNS server on a real UDP socket that answers every A
// query with its current addresses (and AAAA queries with none), for
// tests of name resolution at each dial. resolver sends every lookup to it.
type dnsServer struct {
	conn    *net.UDPConn
	mu      sync.Mutex
	answer  []netip.Addr
	queries atomic.Int64 // A queries answered
}

func startDNS(t testing.TB, addrs ...netip.Addr) *dnsServer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: conn, answer: addrs}
	done := make(chan struct{})
	go func() { defer close(done); s.serve() }()
	t.Cleanup(func() { conn.Close(); <-done })
	return s
}

// set replaces the addresses the name resolves to.
func (s *dnsServer) set(addrs ...netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = addrs
}

// resolver is a Go resolver whose every query goes to s.
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}}
}

func (s *dnsServer) serve() {
	buf := make([]byte, 512)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if reply := s.reply(buf[:n]); reply != nil {
			s.conn.WriteToUDP(reply, from)
		}
	}
}

// reply answers one query: the header and question echoed, then an A
// record per address (TTL 0) for an A question, nothing for others.
func (s *dnsServer) reply(q []byte) []byte {
	end := 12
	for end < len(q) && q[end] != 0 { // the question's name, label by label
		end += int(q[end]) + 1
	}
	end += 5 // the root label, QTYPE, QCLASS
	if len(q) < 12 || end > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[end-4:])
	var answers []netip.Addr
	if qtype == 1 {
		s.queries.Add(1)
		s.mu.Lock()
		answers = s.answer
		s.mu.Unlock()
	}
	out := append([]byte{}, q[:end]...)
	binary.BigEndian.PutUint16(out[2:], 0x8580) // response, authoritative, recursion desired and available
	binary.BigEndian.PutUint16(out[4:], 1)      // one question
	binary.BigEndian.PutUint16(out[6:], uint16(len(answers)))
	binary.BigEndian.PutUint32(out[8:], 0) // no authority, no additional records
	for _, a := range answers {
		ip := a.As4()
		out = append(out, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4) // the question's name, A, IN, TTL 0, 4 bytes
		out = append(out, ip[:]...)
	}
	return out
}
