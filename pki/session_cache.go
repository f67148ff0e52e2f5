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
// A handshake that began before the change can deliver its ticket after it,
// and crypto/tls's Get and Put say nothing of which handshake calls them.
// So each handshake runs on a config of its own certificate (see
// ForHandshake): it presents that certificate whatever reloads meanwhile,
// and its view of the cache (boundSessions) resumes and stores a session
// only while that certificate is still the tunnel's own. The cache itself,
// on the tunnel's shared config, neither resumes nor stores: a handshake
// not bound to a certificate cannot say which identity its ticket proves.
type sessionCache struct {
	own func() (*tls.Certificate, error) // the tunnel's certificate now; required

	mu    sync.Mutex
	lru   tls.ClientSessionCache
	made  *tls.Certificate // own certificate when lru was made
	bound *tls.Config      // the handshake config for made, once asked for
}

func newSessionCache(own func() (*tls.Certificate, error)) *sessionCache {
	return &sessionCache{own: own, lru: tls.NewLRUClientSessionCache(0)}
}

// sync starts the cache over if the own certificate changed, and returns
// it; c.mu held. An error from own leaves the cache as it is and returns
// nil, as does a tunnel with no certificate yet.
func (c *sessionCache) sync() *tls.Certificate {
	cert, err := c.own()
	if err != nil || cert == nil {
		return nil
	}
	if cert != c.made {
		if c.made != nil {
			c.lru = tls.NewLRUClientSessionCache(0)
		}
		c.made, c.bound = cert, nil
	}
	return cert
}

// Get and Put of the shared config: see sessionCache.
func (c *sessionCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (c *sessionCache) Put(string, *tls.ClientSessionState)        {}

// handshakeConfig is base for one handshake under the certificate current
// now, made once per certificate.
func (c *sessionCache) handshakeConfig(base *tls.Config) *tls.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert := c.sync()
	if cert == nil {
		return base // nothing to present: the handshake fails, or goes without, as it would have
	}
	if c.bound == nil {
		cfg := base.Clone()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		cfg.ClientSessionCache = &boundSessions{c: c, cert: cert}
		c.bound = cfg
	}
	return c.bound
}

// boundSessions is the cache as one certificate's handshakes see it.
type boundSessions struct {
	c    *sessionCache
	cert *tls.Certificate
}

func (b *boundSessions) Get(key string) (*tls.ClientSessionState, bool) {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	if b.c.sync() != b.cert {
		return nil, false // replaced since the handshake took its config
	}
	return b.c.lru.Get(key)
}

func (b *boundSessions) Put(key string, cs *tls.ClientSessionState) {
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	if b.c.sync() != b.cert {
		return // the ticket proves a certificate replaced meanwhile
	}
	b.c.lru.Put(key, cs)
}

// ForHandshake returns the config one client handshake is to run with.
// For a config of this package whose tunnel presents a certificate and
// resumes sessions, that is one bound to the certificate current now (see
// sessionCache); any other config is returned as it is.
func ForHandshake(cfg *tls.Config) *tls.Config {
	if c, ok := cfg.ClientSessionCache.(*sessionCache); ok {
		return c.handshakeConfig(cfg)
	}
	return cfg
}
