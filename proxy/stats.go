package proxy

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of a tunnel's counters.
type Stats struct {
	// Accepted counts connections admitted for handling; connections closed at
	// once after accept are counted in Refused instead.
	Accepted uint64
	// Active is the number of admitted connections not yet closed, including
	// those still in their handshake.
	Active uint64
	// Refused counts connections closed right after accept, by reason:
	// "accept_rate", "per_source_rate", "proxy_untrusted",
	// "per_source_handshakes", "max_connections", "fd_budget", "shutdown".
	// Some come later, once the connection was admitted (so it is in
	// Accepted too): "proxy_header" (no valid PROXY header within
	// handshake_timeout), and "per_source_rate" and "per_source_handshakes"
	// for a client whose address only the PROXY header gave.
	Refused map[string]uint64
	// HandshakeFailures counts failed TLS handshakes, by reason (see
	// classifyHandshake).
	HandshakeFailures map[string]uint64
	// BytesIn flowed from accepted peers to the target, BytesOut back.
	BytesIn, BytesOut uint64
	// Handshakes holds the durations of TLS handshakes that succeeded or
	// failed (see conn.handshake).
	Handshakes Histogram
	// Closed counts admitted connections that ended, by the reason of
	// their closing line ("handshake_failed" for a failed inbound
	// handshake, whose line is "handshake failed"); reasons never used are
	// absent. Accepted is the sum of Closed and Active.
	Closed map[string]uint64
	// Durations holds how long admitted connections lasted, accept to
	// close.
	Durations Histogram
	// PeerResets counts accepted connections closed with a TCP reset
	// because their target could not be reached or reset, by close reason.
	PeerResets map[string]uint64
	// AcceptErrors counts failed accept calls on the listener, each one
	// retried after a pause (see Tunnel.Serve).
	AcceptErrors uint64
	// Targets are the dial counts and state of each target, in the order
	// configured.
	Targets []TargetStats
	// HandshakesWaiting is the number of handshakes waiting now for a
	// slot to compute in (max_handshakes, see handshakeGate).
	HandshakesWaiting uint64
}

// counters is every number a tunnel records. It is deliberately one small
// type so that a later Prometheus recorder can replace it behind an interface.
type counters struct {
	accepted     atomic.Uint64
	active       atomic.Int64
	bytesIn      atomic.Uint64
	bytesOut     atomic.Uint64
	acceptErrors atomic.Uint64
	// handshakes is read without mu: it is atomics only.
	handshakes histogram
	closedCounters

	mu          sync.Mutex
	refused     map[string]uint64
	handshake   map[string]uint64
	closedOther map[string]uint64 // reasons outside closeReasons
	peerResets  map[string]uint64
}

func (c *counters) refuse(reason string) { c.bump(&c.refused, reason) }

func (c *counters) handshakeFailed(reason string) { c.bump(&c.handshake, reason) }

func (c *counters) peerReset(reason string) { c.bump(&c.peerResets, reason) }

func (c *counters) bump(m *map[string]uint64, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = make(map[string]uint64)
	}
	(*m)[key]++
}

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{
		Accepted:          c.accepted.Load(),
		Active:            uint64(max(c.active.Load(), 0)),
		Refused:           cloneOrEmpty(c.refused),
		HandshakeFailures: cloneOrEmpty(c.handshake),
		BytesIn:           c.bytesIn.Load(),
		BytesOut:          c.bytesOut.Load(),
		Handshakes:        c.handshakes.snapshot(handshakeBounds[:]),
		Closed:            c.closedSnapshot(),
		Durations:         c.durations.snapshot(durationBounds[:]),
		AcceptErrors:      c.acceptErrors.Load(),
		PeerResets:        cloneOrEmpty(c.peerResets),
	}
}

// cloneOrEmpty never returns nil so callers can index the maps freely.
func cloneOrEmpty(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return maps.Clone(m)
}
