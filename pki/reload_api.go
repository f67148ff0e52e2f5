package pki

import (
	"crypto/tls"
	"crypto/x509"

	"github.com/passtunnel/passtunnel/filewatch"
)

// Close stops the Manager's background work: watching certificate, key
// and CA files (waiting for a reload in progress) and ACME renewals.
// Configs built earlier keep working with the certificates and pools they
// hold last. main calls it on exit.
func (m *Manager) Close() {
	m.reload.close()
	m.stopACME()
}

// Release tells the Manager that cfg, built by ServerTLSConfig or
// ClientTLSConfig, is no longer used for new connections (its tunnel was
// removed or rebuilt by a config reload). Files no other config follows
// stop being watched. Connections already open are not affected, and a
// Release of an unknown or nil config does nothing.
func (m *Manager) Release(cfg *tls.Config) {
	m.reload.release(cfg)
	m.releaseACME(cfg)
}

// ReloadStats counts hot reloads of certificate, key and CA files by
// tunnel and result, since the Manager was made: the source of the reload
// metric. Tunnels with files that never changed are listed with zeros.
func (m *Manager) ReloadStats() map[string]ReloadCounts { return m.reload.snapshotStats() }

// sharePair loads the pair of tunnel for cfg and keeps it current.
func (r *reloader) sharePair(cfg *tls.Config, tunnel, certFile, keyFile string) (*pairSource, error) {
	known := filewatch.SumAll(pairPaths(certFile, keyFile)) // before the load: a change during it is seen
	fresh, err := loadPair(tunnel, certFile, keyFile, r.log, r.counter(tunnel))
	if err != nil {
		return nil, err
	}
	fresh.loaded = func() { r.warnKeyMode(tunnel, certFile, keyFile) }
	fresh.loaded()
	return r.share(cfg, "pair\x00"+tunnel+"\x00"+certFile+"\x00"+keyFile, fresh, known).(*pairSource), nil
}

// sharePool loads the CA bundle of tunnel for cfg and keeps it current.
func (r *reloader) sharePool(cfg *tls.Config, tunnel, file string, base *x509.CertPool) (*poolSource, error) {
	known := filewatch.SumAll([]string{file}) // before the load: a change during it is seen
	fresh, err := loadPool(tunnel, file, base, r.log, r.counter(tunnel))
	if err != nil {
		return nil, err
	}
	key := "pool\x00" + tunnel + "\x00" + file
	if base != nil {
		key += "\x00system"
	}
	return r.share(cfg, key, fresh, known).(*poolSource), nil
}
