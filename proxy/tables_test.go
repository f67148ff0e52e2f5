package proxy

import "net/netip"

// count is the number of handshakes counted for key.
func (h *handshakeTable) count(key netip.Prefix) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[key]
}

// size is the number of sources tracked.
func (h *handshakeTable) size() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.counts)
}

// size is the number of sources tracked.
func (s *sourceTable) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
