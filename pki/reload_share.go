package pki

import (
	"crypto/x509"

	"github.com/passtunnel/passtunnel/filewatch"
)

// fileRefs are the files one endpoint follows for hot reload: the entries
// of the Manager's reloader it holds a reference to, given back by
// release. The endpoint's builder fills it; its release empties it.
type fileRefs struct {
	r    *reloader
	keys []string
}

// pair loads the certificate and key of tunnel and keeps them current.
func (f *fileRefs) pair(tunnel string, pf identityFiles) (*pairSource, error) {
	r := f.r
	known := filewatch.SumAll(pf.paths()) // before the load: a change during it is seen
	fresh, err := loadPair(tunnel, pf, r.log, r.counter(tunnel))
	if err != nil {
		return nil, err
	}
	fresh.loaded = func() {
		r.warnKeyMode(tunnel, pf.main(), pf.keyFile())
		if fresh.legacy.Load() {
			r.log.Warn(legacyAdvice, "tunnel", tunnel, "file", pf.keyFile())
		}
	}
	fresh.loaded()
	fresh.staple = startStapler(fresh)
	got := f.share(pf.shareKey(tunnel), fresh, known).(*pairSource)
	if got != fresh {
		fresh.stop() // an endpoint built earlier follows these files already
	}
	return got, nil
}

// pool loads the CA bundle of tunnel and keeps it current.
func (f *fileRefs) pool(tunnel, file string, base *x509.CertPool) (*poolSource, error) {
	known := filewatch.SumAll([]string{file}) // before the load: a change during it is seen
	fresh, err := loadPool(tunnel, file, base, f.r.log, f.r.counter(tunnel))
	if err != nil {
		return nil, err
	}
	key := "pool\x00" + tunnel + "\x00" + file
	if base != nil {
		key += "\x00system"
	}
	return f.share(key, fresh, known).(*poolSource), nil
}

func (f *fileRefs) share(key string, fresh reloadable, known map[string]filewatch.Digest) reloadable {
	f.keys = append(f.keys, key)
	return f.r.share(key, fresh, known)
}

// release gives back every reference; files no other endpoint follows
// stop being watched.
func (f *fileRefs) release() {
	if f.r != nil {
		f.r.release(f.keys)
	}
	f.keys = nil
}
