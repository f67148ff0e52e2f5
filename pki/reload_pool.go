package pki

import (
	"crypto/x509"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// poolSource is a tunnel's CA bundle file and the last good pool read from
// it, on top of an optional base (the system roots, read once).
type poolSource struct {
	tunnel, file string
	base         *x509.CertPool // nil: the bundle alone
	log          *slog.Logger
	count        *reloadCounter

	cur atomic.Pointer[x509.CertPool]
	mu  sync.Mutex // one check at a time
	tr  tracker
}

// loadPool reads the bundle for the first time; an error here fails the
// tunnel's start, as without hot reload.
func loadPool(tunnel, file string, base *x509.CertPool, log *slog.Logger, count *reloadCounter) (*poolSource, error) {
	s := &poolSource{tunnel: tunnel, file: file, base: base, log: log, count: count}
	id, pool, _, err := s.read()
	if err != nil {
		return nil, err
	}
	s.tr.last = id
	s.cur.Store(pool)
	return s, nil
}

func (s *poolSource) files() []string { return []string{s.file} }

// pool is the trust in use, read by each handshake's verification.
func (s *poolSource) pool() *x509.CertPool { return s.cur.Load() }

func (s *poolSource) read() (contentID, *x509.CertPool, []*x509.Certificate, error) {
	data, err := readOrErr(roleCA, s.file)
	id := idOf(data)
	if err != nil {
		return id, nil, nil, err
	}
	f, err := splitPEM(data)
	if err == nil && len(f.certs) == 0 {
		err = errNoCert
	}
	if err != nil {
		return id, nil, nil, newFileError(roleCA, s.file, err)
	}
	pool := x509.NewCertPool()
	if s.base != nil {
		pool = s.base.Clone()
	}
	for _, c := range f.certs {
		pool.AddCert(c)
	}
	return id, pool, f.certs, nil
}

func (s *poolSource) check() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, pool, certs, err := s.read()
	apply, report, retry := s.tr.settle(id, err != nil)
	switch {
	case apply:
		s.cur.Store(pool)
		s.count.ok.Add(1)
		s.log.Info("certificate reloaded", "tunnel", s.tunnel, "file", s.file, "certs", len(certs),
			"fingerprint", Fingerprint(certs[0].Raw), "not_after", certs[0].NotAfter.UTC().Format(time.RFC3339))
	case report:
		s.count.failed.Add(1)
		s.log.Warn("certificate reload failed", "tunnel", s.tunnel, "file", s.file, "reason", err.Error())
	}
	return retry
}
