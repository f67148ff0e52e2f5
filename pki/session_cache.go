package pki

import (
	"crypto/tls"
	"sync"
)

// sessionCache is a client tunnel's session cache that starts over when the
// tunnel's own certificate changes (a reload, a renewed node certificate):
// a resumed session would otherwise keep presenting the identity of the
// certificate it was made with, long after the operator replaced it.
type sessionCache struct {
	own func() (*tls.Certificate, error) // nil: a tunnel without a certificate

	mu   sync.Mutex
	lru  tls.ClientSessionCache
	made *tls.Certificate // own certificate when lru was made
}

func newSessionCache(own func() (*tls.Certificate, error)) *sessionCache {
	return &sessionCache{own: own, lru: tls.NewLRUClientSessionCache(0)}
}

func (c *sessionCache) current() tls.ClientSessionCache {
	var cert *tls.Certificate
	if c.own != nil {
		cert, _ = c.own() // an error leaves the cache as it is
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cert != nil && cert != c.made {
		if c.made != nil {
			c.lru = tls.NewLRUClientSessionCache(0)
		}
		c.made = cert
	}
	return c.lru
}

func (c *sessionCache) Get(key string) (*tls.ClientSessionState, bool) { return c.current().Get(key) }

func (c *sessionCache) Put(key string, cs *tls.ClientSessionState) { c.current().Put(key, cs) }
