package proxy

import "sync/atomic"

// reasonFDBudget refuses a connection that would leave the process fewer
// free descriptors than the budget's reserve.
const reasonFDBudget = "fd_budget"

// connDescriptors is what one admitted connection may hold: its own socket
// and the target dial's (through a CONNECT proxy, that proxy's instead).
// It is taken before the connection is handled, so that the dial never
// finds the process out of descriptors.
const connDescriptors = 2

// The reserve is the descriptors connections may not take: those the
// process keeps for itself (standard streams, the runtime's poller,
// listeners, file watchers, the admin listener) and those it opens besides
// connections: admin requests (health probes, up to 4 scrapes), a reload
// reading the config and certificates, target checks, ACME, and the accept
// of a connection about to be refused, which needs a descriptor for the
// moment it takes to close it. minReserve covers that for a process with a
// few tunnels at the smallest limit in common use (1024: 6%);
// reserveFraction grows it with limits set for processes that carry more
// (more tunnels, more scrapes): 1,000 of 20,000.
const (
	minReserve      = 64
	reserveFraction = 20 // 1/20 = 5%
)

// DescriptorBudget is a process's file descriptors as its tunnels share
// them: every admitted connection takes connDescriptors before it is
// handled and gives them back when it ends, and a connection that would
// leave fewer than Reserve free is refused at once (reason fd_budget).
// Without it, a flood of connections takes the last descriptor and then
// everything that needs one fails together: accepts, target dials, the
// admin endpoint a liveness probe asks (which restarts the process), a
// reload reading its files.
//
// It counts what it handed out, not what is open (reading /proc/self/fd
// at every accept would cost as much as the accept): what the process
// opens besides connections is the reserve's to cover. One budget serves
// every tunnel of the process, across reloads; nil is no budget.
type DescriptorBudget struct {
	limit, reserve int64
	held           atomic.Int64
}

// NewDescriptorBudget is the budget of a process allowed limit open
// descriptors (RLIMIT_NOFILE's soft limit). The reserve is the larger of
// 64 and 5% of limit, but at most half of it, so that a tiny limit still
// carries connections.
func NewDescriptorBudget(limit int) *DescriptorBudget {
	reserve := min(max(minReserve, limit/reserveFraction), limit/2)
	return &DescriptorBudget{limit: int64(limit), reserve: int64(reserve)}
}

// Limit is the process's descriptor limit the budget was made for.
func (b *DescriptorBudget) Limit() int { return int(b.limit) }

// Reserve is how many descriptors connections leave free.
func (b *DescriptorBudget) Reserve() int { return int(b.reserve) }

// Held is how many descriptors admitted connections hold now.
func (b *DescriptorBudget) Held() int { return int(b.held.Load()) }

// take counts n more descriptors held, or reports false, taking nothing,
// when that would leave fewer than the reserve free. A nil budget takes
// everything.
func (b *DescriptorBudget) take(n int64) bool {
	if b == nil {
		return true
	}
	for {
		held := b.held.Load()
		if held+n > b.limit-b.reserve {
			return false
		}
		if b.held.CompareAndSwap(held, held+n) {
			return true
		}
	}
}

// give gives back n descriptors take counted.
func (b *DescriptorBudget) give(n int64) {
	if b != nil {
		b.held.Add(-n)
	}
}
