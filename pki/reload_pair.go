package pki

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
)

// contentID is the SHA-256 of what one read of a source's files gave:
// each file's bytes or its read error. Equal IDs mean nothing changed, so
// the many events of a busy directory cost a read and a hash each.
type contentID [sha256.Size]byte

func idOf(parts ...[]byte) contentID {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed, so no two sequences of parts hash alike.
		_ = binary.Write(h, binary.BigEndian, uint64(len(p)))
		h.Write(p)
	}
	var id contentID
	h.Sum(id[:0])
	return id
}

// readOrErr reads path for idOf: the bytes, or the error's text, so that
// an error that changes (missing, then unreadable) counts as a change.
func readOrErr(role fileRole, path string) ([]byte, error) {
	data, err := readFile(role, path)
	if err != nil {
		return []byte("error: " + err.Error()), err
	}
	return data, nil
}

// tracker decides what a read of a source means. A bad read is reported
// (logged, counted) only when the next check, a debounce later, sees the
// same content: a rotation caught half-way, the certificate written and
// its key not yet, is not an alarm. Until then, and after, the last good
// content stays in use.
type tracker struct {
	last    contentID // applied, or reported as bad
	pending *contentID
}

// settle returns whether id is new and good (apply it), new and bad for
// the second time (report it), and whether to check again.
func (t *tracker) settle(id contentID, bad bool) (apply, report, retry bool) {
	switch {
	case id == t.last:
		t.pending = nil
		return false, false, false
	case !bad:
		t.last, t.pending = id, nil
		return true, false, false
	case t.pending != nil && *t.pending == id:
		t.last, t.pending = id, nil
		return false, true, false
	}
	t.pending = &id
	return false, false, true
}

// pairSource is a tunnel's certificate and key files and the last good
// pair read from them.
type pairSource struct {
	tunnel string
	pf     identityFiles
	log    *slog.Logger
	count  *reloadCounter
	loaded func() // after each pair read and put in use
	staple *stapler

	cur    atomic.Pointer[tls.Certificate]
	legacy atomic.Bool // the key in use is in the legacy encrypted PEM format
	mu     sync.Mutex  // one check at a time
	tr     tracker
}

// loadPair reads the pair for the first time; an error here fails the
// tunnel's start, as without hot reload.
func loadPair(tunnel string, pf identityFiles, log *slog.Logger, count *reloadCounter) (*pairSource, error) {
	s := &pairSource{tunnel: tunnel, pf: pf, log: log, count: count}
	id, cert, legacy, err := pf.read()
	if err != nil {
		return nil, err
	}
	s.tr.last = id
	s.cur.Store(cert)
	s.legacy.Store(legacy)
	return s, nil
}

func (s *pairSource) files() []string { return s.pf.paths() }

// stop ends the background work of a source no endpoint uses any more.
func (s *pairSource) stop() {
	if s.staple != nil {
		s.staple.stop()
	}
}

// pairPaths are the files of a pair; keyFile is empty when the key is in
// the certificate file.
func pairPaths(certFile, keyFile string) []string {
	if keyFile == "" {
		return []string{certFile}
	}
	return []string{certFile, keyFile}
}

// certificate is the pair in use; crypto/tls asks for it on every
// handshake, so a swap takes effect with the next one.
func (s *pairSource) certificate() *tls.Certificate { return s.cur.Load() }

func (s *pairSource) check() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, cert, legacy, err := s.pf.read()
	apply, report, retry := s.tr.settle(id, err != nil)
	switch {
	case apply:
		s.cur.Store(cert)
		s.legacy.Store(legacy)
		if s.staple != nil {
			s.staple.changed()
		}
		s.count.ok.Add(1)
		if s.loaded != nil {
			s.loaded()
		}
		s.log.Info("certificate reloaded", append([]any{"tunnel", s.tunnel, "file", s.pf.main()},
			certLogArgs(cert.Leaf)...)...)
	case report:
		s.count.failed.Add(1)
		s.log.Warn("certificate reload failed", "tunnel", s.tunnel, "file", failedFile(err, s.pf.main()),
			"reason", err.Error(), "kept", Fingerprint(s.cur.Load().Leaf.Raw))
	}
	return retry
}

// failedFile is the file an error is about, for the log's file field.
func failedFile(err error, fallback string) string {
	var fe *fileError
	if errors.As(err, &fe) {
		return fe.path
	}
	return fallback
}
