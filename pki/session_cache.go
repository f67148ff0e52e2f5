package pki

import (
	"crypto/tls"
	"sync"
)

// sessionCache is a client tunnel's session cache that starts over when the
// tunnel's own certificate changes (a reload, a renewed node certificate):
// a resumed session keeps proving the identity of the certificate it was
// first made with, long after the operator replaced it.
//
// A handshake that began before the change can deliver its ticket after it.
// crypto/tls calls Get when a handshake starts and Put when a ticket
// arrives, with the same key, so a Put whose key was last taken under
// another certificate is dropped: it belongs to the old identity. (Two
// handshakes to the same target straddling the change at once can still
// let one old session through; it then lives at most as long as the
// server's ticket lifetime.)
type sessionCache struct {
	own func() (*tls.Certificate, error) // nil: a tunnel without a certificate

	mu     sync.Mutex
	lru    tls.ClientSessionCache
	made   *tls.Certificate            // own certificate when lru was made
	gotten map[string]*tls.Certificate // own certificate at each key's last Get
}

func newSessionCache(own func() (*tls.Certificate, error)) *sessionCache {
	return &sessionCache{own: own, lru: tls.NewLRUClientSessionCache(0), gotten: map[string]*tls.Certificate{}}
}

// sync starts the cache over if the own certificate changed; c.mu held.
func (c *sessionCache) sync() *tls.Certificate {
	var cert *tls.Certificate
	if c.own != nil {
		cert, _ = c.own() // an error leaves the cache as it is
	}
	if cert != nil && cert != c.made {
		if c.made != nil {
			c.lru = tls.NewLRUClientSessionCache(0)
			clear(c.gotten)
		}
		c.made = cert
	}
	return c.made
}

func (c *sessionCache) Get(key string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gotten[key] = c.sync()
	return c.lru.Get(key)
}

func (c *sessionCache) Put(key string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.sync()
	if got, ok := c.gotten[key]; !ok || got != cur {
		return // the handshake began under another certificate
	}
	c.lru.Put(key, cs)
}
