package proxy

import (
	"net/netip"
	"sync"
)

// reasonPerSourceHandshakes refuses a connection whose client already has
// per_source_handshakes connections in their handshake.
const reasonPerSourceHandshakes = "per_source_handshakes"

// handshakeTable counts, per source (sourceKey: the IPv4 address or the
// IPv6 /64), the connections admitted and still in their handshake: a
// silent peer holds a max_connections slot until handshake_timeout, and
// this keeps one source from holding more than its share of them.
//
// It is tunnel state that lives as long as the listener: a reload changes
// the limit new connections are admitted under, never the counts of those
// in flight, so that every release meets the acquire it undoes.
//
// An entry exists only while its count is above zero, so the table never
// holds more sources than there are connections in their handshake. It is
// bounded all the same, at maxSources like per_source_rate's table: a
// source seen first while it is full is admitted without being counted (a
// flood from 65,536 sources at once is bounded by max_connections and
// accept_rate, not by a per-source limit), and the connection carries no
// count to give back.
type handshakeTable struct {
	max    int
	mu     sync.Mutex
	counts map[netip.Prefix]int
}

func newHandshakeTable(size int) *handshakeTable {
	return &handshakeTable{max: size, counts: make(map[netip.Prefix]int)}
}

// acquire counts one more handshake for key unless key has limit of them
// already (refused). held is false when the table was full and the
// connection goes uncounted.
func (h *handshakeTable) acquire(key netip.Prefix, limit int) (held, refused bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, ok := h.counts[key]
	switch {
	case n >= limit:
		return false, true
	case !ok && len(h.counts) >= h.max:
		return false, false
	}
	h.counts[key] = n + 1
	return true, false
}

// release gives back a handshake that acquire counted.
func (h *handshakeTable) release(key netip.Prefix) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := h.counts[key]; n > 1 {
		h.counts[key] = n - 1
	} else {
		delete(h.counts, key)
	}
}

// handshakeHold is one connection's count in a handshakeTable; the zero
// value holds nothing. Only one goroutine owns it at a time: the accept
// loop until the connection's goroutine starts, then that goroutine (the
// pump's goroutines start after it was released).
type handshakeHold struct {
	table *handshakeTable // nil: nothing held
	key   netip.Prefix
}

// release gives the count back, once; later calls do nothing.
func (h *handshakeHold) release() {
	if h.table != nil {
		h.table.release(h.key)
		h.table = nil
	}
}
