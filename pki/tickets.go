package pki

import (
	"crypto/tls"
	"sync/atomic"
	"time"
)

// ticketWindow is how long one session ticket key is the one that encrypts.
// Tickets stay readable one window longer (the previous key is kept), and a
// node whose clock runs up to one window ahead is understood too (the next
// key is kept as well).
const ticketWindow = 24 * time.Hour

// ticketer encrypts and decrypts session tickets with keys derived from the
// cluster seed, so that a ticket issued by any node resumes on every node.
//
// It plugs into tls.Config.WrapSession / UnwrapSession instead of calling
// SetSessionTicketKeys on the tunnel's config: those hooks survive
// Config.Clone (proxy may clone and add its own checks), and the window is
// re-checked on every ticket, with no goroutine or timer to stop. The
// crypto is crypto/tls's own: a private config holds the keys.
type ticketer struct {
	ca  *ClusterCA
	now func() time.Time
	cur atomic.Pointer[ticketKeys]
}

type ticketKeys struct {
	window int64
	cfg    *tls.Config // only its session ticket keys are used
}

func (tk *ticketer) keys() (*tls.Config, error) {
	w := tk.now().Unix() / int64(ticketWindow/time.Second)
	if k := tk.cur.Load(); k != nil && k.window == w {
		return k.cfg, nil
	}
	// Two handshakes may both find the window changed: each derives the
	// same keys, and whichever stores last wins. Nothing is lost.
	var keys [][32]byte
	for _, win := range []int64{w, w - 1, w + 1} { // the first one encrypts
		k, err := tk.ca.ticketKey(win)
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
