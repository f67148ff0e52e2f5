package pki

import (
	"crypto/rand"
	"crypto/tls"
	"sync"
	"sync/atomic"
	"time"
)

// ticketWindow is how long one cluster-derived session ticket key is the
// one that encrypts. Tickets stay readable one window longer (the previous
// key is kept), and a node whose clock runs up to one window ahead is
// understood too (the next key is kept as well).
const ticketWindow = 24 * time.Hour

// ticketer encrypts and decrypts session tickets with keys that change
// every window: a passphrase cluster's keys are derived from its seed, so
// that a ticket issued by any node resumes on every node; other tunnels'
// keys are random, made in this process and forgotten soon after the
// tickets they sealed expire (see randomTicketer).
//
// It plugs into tls.Config.WrapSession / UnwrapSession instead of calling
// SetSessionTicketKeys on the tunnel's config: those hooks survive
// Config.Clone (proxy may clone and add its own checks), and the window is
// re-checked on every ticket, with no goroutine or timer to stop. The
// crypto is crypto/tls's own: a private config holds the keys.
type ticketer struct {
	window time.Duration
	keyOf  func(window int64) ([32]byte, error)
	// also are the windows, relative to the current one, whose keys open
	// tickets besides the current window's key, which seals them.
	also []int64
	now  func() time.Time
	cur  atomic.Pointer[ticketKeys]
}

type ticketKeys struct {
	window int64
	cfg    *tls.Config // only its session ticket keys are used
}

// derivedTicketer seals tickets with keys of the cluster ca.
func derivedTicketer(ca *ClusterCA, now func() time.Time) *ticketer {
	return &ticketer{window: ticketWindow, keyOf: ca.ticketKey, also: []int64{-1, 1}, now: now}
}

// randomTicketer seals tickets with random keys, a new one every half of
// lifetime. A ticket is accepted at most lifetime after it was sealed (see
// resumeGuard), so the keys of the two windows before the current one open
// every ticket still acceptable, and an older key is dropped: a ticket
// recorded on the wire (which, in TLS 1.2, holds the session's master
// secret) cannot be opened from this process's memory later than one and a
// half lifetimes after it was issued.
func randomTicketer(lifetime time.Duration, now func() time.Time) *ticketer {
	keys := &randomKeys{byWindow: map[int64][32]byte{}}
	return &ticketer{window: max(lifetime/2, time.Second), keyOf: keys.key, also: []int64{-1, -2}, now: now}
}

// randomKeys makes one random key per window and keeps the last three.
type randomKeys struct {
	mu       sync.Mutex
	byWindow map[int64][32]byte
}

func (r *randomKeys) key(window int64) ([32]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.byWindow[window]
	if !ok {
		rand.Read(k[:]) // never fails (Go 1.24+)
		r.byWindow[window] = k
	}
	newest := window
	for w := range r.byWindow {
		newest = max(newest, w)
	}
	for w := range r.byWindow {
		if w < newest-2 {
			delete(r.byWindow, w)
		}
	}
	return k, nil
}

func (tk *ticketer) keys() (*tls.Config, error) {
	w := tk.now().UnixNano() / int64(tk.window)
	if k := tk.cur.Load(); k != nil && k.window == w {
		return k.cfg, nil
	}
	// Two handshakes may both find the window changed: each gets the
	// same keys, and whichever stores last wins. Nothing is lost.
	var keys [][32]byte
	for _, off := range append([]int64{0}, tk.also...) { // the first one seals
		k, err := tk.keyOf(w + off)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	cfg := &tls.Config{}
	cfg.SetSessionTicketKeys(keys)
	tk.cur.Store(&ticketKeys{window: w, cfg: cfg})
	return cfg, nil
}

func (tk *ticketer) wrap(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
	cfg, err := tk.keys()
	if err != nil {
		return nil, err
	}
	return cfg.EncryptTicket(cs, ss)
}

// unwrap returns nil, nil for a ticket none of the keys opens: crypto/tls
// then falls back to a full handshake.
func (tk *ticketer) unwrap(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
	cfg, err := tk.keys()
	if err != nil {
		return nil, err
	}
	return cfg.DecryptTicket(identity, cs)
}
