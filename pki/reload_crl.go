package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/filewatch"
)

// crlSource is a tunnel's tls.crl files, with tls.ca whose certificates
// check their signatures, and the last good set read from them. A new CA
// file re-checks the CRLs too, so both are followed.
type crlSource struct {
	tunnel, ca string
	crls       []string
	log        *slog.Logger
	count      *reloadCounter

	cur atomic.Pointer[crlSet]
	mu  sync.Mutex
	tr  tracker
}

func (s *crlSource) files() []string { return append([]string{s.ca}, s.crls...) }

// set is the CRLs in use, read by each handshake's verification.
func (s *crlSource) set() *crlSet { return s.cur.Load() }

func (s *crlSource) read() (contentID, *crlSet, error) {
	parts := make([][]byte, 0, 1+len(s.crls))
	for _, f := range s.files() {
		data, _ := readOrErr(roleCA, f) // the parse below reports the error
		parts = append(parts, data)
	}
	set, err := readCRLs(s.ca, s.crls, s.log)
	return idOf(parts...), set, err
}

func (s *crlSource) check() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, set, err := s.read()
	apply, report, retry := s.tr.settle(id, err != nil)
	switch {
	case apply:
		s.cur.Store(set)
		s.count.ok.Add(1)
		s.log.Info("CRL reloaded", "tunnel", s.tunnel, "files", strings.Join(s.crls, ","), "revoked", set.revoked())
	case report:
		s.count.failed.Add(1)
		s.log.Warn("CRL reload failed; still using the last good one", "tunnel", s.tunnel, "files", strings.Join(s.crls, ","),
			"reason", err.Error())
	}
	return retry
}

// revoked counts the entries of every list, for the reload log.
func (s *crlSet) revoked() int {
	n := 0
	for _, c := range s.lists {
		n += len(c.serials)
	}
	return n
}

// crls loads tls.crl of tunnel t and keeps it current, shared like pool.
func (f *fileRefs) crls(t *config.Tunnel) (*crlSource, error) {
	c := t.TLS
	s := &crlSource{tunnel: t.Name, ca: c.CA, crls: c.CRL, log: f.r.log, count: f.r.counter(t.Name)}
	known := filewatch.SumAll(s.files())
	id, set, err := s.read()
	if err != nil {
		return nil, err
	}
	s.tr.last = id
	s.cur.Store(set)
	key := "crl\x00" + t.Name + "\x00" + c.CA + "\x00" + strings.Join(c.CRL, "\x00")
	return f.share(key, s, known).(*crlSource), nil
}

// revocationCheck is the verification step of a CRL set: set returns
// the one in use at the time of the handshake.
func revocationCheck(set func() *crlSet, now func() time.Time) func([]*x509.Certificate) error {
	return func(chain []*x509.Certificate) error { return set().check(chain, now()) }
}

// staticCRLs reads tls.crl once, for an endpoint that hot reload does not
// follow; nil when the tunnel has none.
func staticCRLs(t *config.Tunnel, log *slog.Logger) (func([]*x509.Certificate) error, error) {
	c := tlsBlock(t)
	if len(c.CRL) == 0 {
		return nil, nil
	}
	set, err := readCRLs(c.CA, c.CRL, log)
	if err != nil {
		return nil, crlError(t, err)
	}
	return revocationCheck(func() *crlSet { return set }, time.Now), nil
}

// crlError points a CRL loading error at tls.crl's position.
func crlError(t *config.Tunnel, err error) error {
	var fe *fileError
	switch {
	case errors.As(err, &fe):
		return tunnelFileError(t, err) // tls.ca, which checks the CRLs
	case unsafeFile(err):
		return fieldError(t, "tls.crl", err)
	}
	return fmt.Errorf("%s: %w", tunnelPrefix(t, "tls.crl"), err) // err names tls.crl and the file
}
