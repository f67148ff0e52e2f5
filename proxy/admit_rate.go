package proxy

import (
	"container/list"
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Refusal reasons of the rate limits, in logs and Stats.Refused.
const (
	reasonAcceptRate    = "accept_rate"
	reasonPerSourceRate = "per_source_rate"
)

// maxSources bounds the per-source table: about 15 MiB at most (some 230
// bytes an entry), whatever the number of addresses a flood comes from.
const maxSources = 65536

// limiters is a tunnel's rate-limit state. It is tunnel state, not part of
// Options: Update keeps it while the rates stay the same, so a reload does
// not hand every source a fresh burst.
type limiters struct {
	acceptRate, perSourceRate float64
	accept                    *rate.Limiter // nil: unlimited
	sources                   *sourceTable  // nil: unlimited
}

// newLimiters builds the state for l, or returns old when its rates are l's.
func newLimiters(old *limiters, l Limits) *limiters {
	if old != nil && old.acceptRate == l.AcceptRate && old.perSourceRate == l.PerSourceRate {
		return old
	}
	n := &limiters{acceptRate: l.AcceptRate, perSourceRate: l.PerSourceRate}
	if l.AcceptRate > 0 {
		n.accept = rate.NewLimiter(rate.Limit(l.AcceptRate), burstFor(l.AcceptRate))
	}
	if l.PerSourceRate > 0 {
		n.sources = newSourceTable(l.PerSourceRate, maxSources, time.Now)
	}
	return n
}

// burstFor lets a second's worth of connections in at once, and at least
// one: a rate below 1/s must still admit somebody.
func burstFor(r float64) int { return max(1, int(math.Ceil(r))) }

// allowAccept takes a token of accept_rate.
func (l *limiters) allowAccept() bool { return l.accept == nil || l.accept.Allow() }

// allowSource takes a token of per_source_rate for the client at a.
// Peers without an IP (unix sockets) are not limited per source.
func (l *limiters) allowSource(a net.Addr) bool {
	if l.sources == nil {
		return true
	}
	key, ok := sourceKey(a)
	return !ok || l.sources.allow(key)
}

// sourceKey is the bucket a client address counts against: the IPv4
// address, or the IPv6 /64, since one host usually holds a whole /64.
func sourceKey(a net.Addr) (netip.Prefix, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32), true
	}
	p, err := ip.Prefix(64)
	return p, err == nil
}

// sourceTable holds one token bucket per source, most recently used first.
//
// No goroutine sweeps it: every access first drops the entries unused for
// longer than a bucket takes to refill. Such an entry is full again, so
// forgetting it changes no decision. When the table is still full, the
// least recently used entry is evicted rather than the newcomer refused:
// table pressure must never lock out a client seen for the first time. The
// cost is that a source evicted under that pressure (65,536 sources active
// within one refill time) starts again with a full burst, which
// accept_rate and max_connections still bound.
type sourceTable struct {
	limit rate.Limit
	burst int
	idle  time.Duration // refill time of an empty bucket
	max   int
	now   func() time.Time

	mu      sync.Mutex
	entries map[netip.Prefix]*list.Element
	lru     list.List // of *sourceEntry, front = most recently used
}

type sourceEntry struct {
	key  netip.Prefix
	lim  *rate.Limiter
	last time.Time
}

func newSourceTable(r float64, size int, now func() time.Time) *sourceTable {
	burst := burstFor(r)
	return &sourceTable{
		limit:   rate.Limit(r),
		burst:   burst,
		idle:    time.Duration(float64(burst) / r * float64(time.Second)),
		max:     size,
		now:     now,
		entries: make(map[netip.Prefix]*list.Element),
	}
}

func (s *sourceTable) allow(key netip.Prefix) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now() // under the lock, so the list stays in time order
	s.sweep(now)
	el, ok := s.entries[key]
	if ok {
		s.lru.MoveToFront(el)
	} else {
		if len(s.entries) >= s.max {
			s.remove(s.lru.Back())
		}
		el = s.lru.PushFront(&sourceEntry{key: key, lim: rate.NewLimiter(s.limit, s.burst)})
		s.entries[key] = el
	}
	e := el.Value.(*sourceEntry)
	e.last = now
	return e.lim.AllowN(now, 1)
}

// sweep drops the entries, oldest first, whose bucket is full again.
func (s *sourceTable) sweep(now time.Time) {
	for el := s.lru.Back(); el != nil; el = s.lru.Back() {
		if now.Sub(el.Value.(*sourceEntry).last) < s.idle {
			return
		}
		s.remove(el)
	}
}

func (s *sourceTable) remove(el *list.Element) {
	delete(s.entries, el.Value.(*sourceEntry).key)
	s.lru.Remove(el)
}
