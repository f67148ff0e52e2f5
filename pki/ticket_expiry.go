package pki

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// Node certificates are short-lived, session tickets are not. A session
// remembers the certificates of its first handshake, and crypto/tls only
// partly looks at their age on resumption: with RequireAnyClientCert the
// server never checks the client's, and the client checks the server's when
// it offers the session, not when the handshake ends. Either way a session
// could resume on a certificate that has expired (or expires mid-handshake),
// which VerifyConnection then rightly refuses: a failed connection where a
// full handshake would have worked.
//
// So the server writes into each ticket when the first of the certificates
// behind it expires, and declines to resume a session within a margin of
// that moment: the client falls back to a full handshake with fresh
// certificates on both sides.

// expiryTag marks passtunnel's entry in tls.SessionState.Extra.
var expiryTag = []byte("passtunnel/v1/expiry:")

// resumeMargin is how long before the first certificate expiry a session is
// no longer resumed: longer than a handshake takes, short against the
// certificate's life.
func resumeMargin(validity time.Duration) time.Duration {
	return min(30*time.Second, validity/10)
}

// extra returns the value of passtunnel's entry tag in a session.
func extra(ss *tls.SessionState, tag []byte) ([]byte, bool) {
	for _, e := range ss.Extra {
		if v, ok := bytes.CutPrefix(e, tag); ok {
			return v, true
		}
	}
	return nil, false
}

// setExtra sets (replaces) passtunnel's entry tag in a session.
func setExtra(ss *tls.SessionState, tag, value []byte) {
	entry := append(append([]byte(nil), tag...), value...)
	for i, e := range ss.Extra {
		if bytes.HasPrefix(e, tag) {
			ss.Extra[i] = entry
			return
		}
	}
	ss.Extra = append(ss.Extra, entry)
}

// sessionExpiry returns the expiry recorded in a session, if any.
func sessionExpiry(ss *tls.SessionState) (time.Time, bool) {
	if v, ok := extra(ss, expiryTag); ok && len(v) == 8 {
		return time.Unix(int64(binary.BigEndian.Uint64(v)), 0), true
	}
	return time.Time{}, false
}

// setSessionExpiry records t in ss, keeping the earlier of t and a value a
// resumed session already carried (its original certificates).
func setSessionExpiry(ss *tls.SessionState, t time.Time) {
	if old, ok := sessionExpiry(ss); ok && old.Before(t) {
		t = old
	}
	setExtra(ss, expiryTag, binary.BigEndian.AppendUint64(nil, uint64(t.Unix())))
}

// resumeGuard decides which sessions a server resumes.
type resumeGuard struct {
	// own returns this server's current certificate; nil when it depends
	// on the ClientHello (ACME).
	own func() (*tls.Certificate, error)
	// sameOwn declines sessions made under another certificate of ours, so
	// that a reloaded certificate is what every new connection sees. Off
	// for passphrase nodes: their sessions resume on any node of the
	// cluster, each with its own certificate.
	sameOwn bool
	margin  time.Duration
	now     func() time.Time
	// lifetime is tls.session_lifetime: a ticket is accepted at most this
	// long after it was issued.
	lifetime time.Duration
	// noTLS12 gives TLS 1.2 connections no resumable ticket at all (an
	// empty one, RFC 5077's way of saying none): a TLS 1.2 ticket carries
	// the session's master secret, and a passphrase cluster's ticket keys
	// can be derived by anyone who learns the passphrase, later too.
	// Without it, a resumed TLS 1.2 connection still gets no ticket: Go
	// would re-wrap the old master secret, which would then outlive
	// lifetime.
	noTLS12 bool
}

// issuedTag marks the entry holding when a ticket was issued.
var issuedTag = []byte("passtunnel/v1/issued:")

// noResumableTicket reports whether a connection gets an empty ticket
// (see resumeGuard.noTLS12).
func (g resumeGuard) noResumableTicket(cs tls.ConnectionState) bool {
	return cs.Version < tls.VersionTLS13 && (g.noTLS12 || cs.DidResume)
}

// fresh reports whether ss was issued less than lifetime ago.
func (g resumeGuard) fresh(ss *tls.SessionState) bool {
	v, ok := extra(ss, issuedTag)
	if !ok || len(v) != 8 {
		return false // issued by a version that did not say when
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
	return g.now().Sub(issued) < g.lifetime
}

// ownTag marks the entry holding a digest of the server's certificate.
var ownTag = []byte("passtunnel/v1/own:")

// apply makes cfg record, in every session ticket, when the first
// certificate behind the session expires (and, with sameOwn, which
// certificate the server held), and decline to resume within margin of that
// expiry (or under another certificate), or lifetime after it was issued.
// tk seals and opens the tickets.
func (g resumeGuard) apply(cfg *tls.Config, tk *ticketer) {
	wrap, unwrap := tk.wrap, tk.unwrap
	cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		if g.noResumableTicket(cs) {
			return nil, nil
		}
		setExtra(ss, issuedTag, binary.BigEndian.AppendUint64(nil, uint64(g.now().UnixNano())))
		var first time.Time // the earliest expiry of the peer's certificates
		for _, c := range cs.PeerCertificates {
			if first.IsZero() || c.NotAfter.Before(first) {
				first = c.NotAfter
			}
		}
		if leaf := g.ownLeaf(); leaf != nil {
			if first.IsZero() || leaf.NotAfter.Before(first) {
				first = leaf.NotAfter
			}
			// Also on a resumed connection: crypto/tls builds its new
			// ticket's state afresh, without the Extra of the session it
			// resumed, and UnwrapSession let that session in only under
			// this very certificate. Untagged, every other connection of
			// a pair would be a full handshake.
			if g.sameOwn {
				setExtra(ss, ownTag, ownDigest(leaf))
			}
		}
		if !first.IsZero() {
			setSessionExpiry(ss, first)
		}
		return wrap(cs, ss)
	}
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := unwrap(identity, cs)
		if err != nil || ss == nil {
			return ss, err
		}
		if g.noResumableTicket(cs) || !g.fresh(ss) {
			return nil, nil // full handshake
		}
		if exp, ok := sessionExpiry(ss); ok && !g.now().Add(g.margin).Before(exp) {
			return nil, nil // full handshake, fresh certificates
		}
		if leaf := g.ownLeaf(); g.sameOwn && leaf != nil {
			if d, ok := extra(ss, ownTag); !ok || !bytes.Equal(d, ownDigest(leaf)) {
				return nil, nil // our certificate changed: let the client see the new one
			}
		}
		return ss, nil
	}
}

func (g resumeGuard) ownLeaf() *x509.Certificate {
	if g.own == nil {
		return nil
	}
	if c, err := g.own(); err == nil && c != nil {
		return c.Leaf
	}
	return nil
}

func ownDigest(leaf *x509.Certificate) []byte {
	d := sha256.Sum256(leaf.Raw)
	return d[:8]
}

// fileSessions is how a tunnel whose certificate does not come from a
// passphrase resumes sessions: tickets accepted for session_lifetime, not
// within fileResumeMargin of a certificate's expiry, sealed with random
// keys of its own.
func (m *Manager) fileSessions(t *config.Tunnel) (resumeGuard, *ticketer) {
	lifetime := sessionLifetime(t)
	return resumeGuard{margin: fileResumeMargin, now: m.now, lifetime: lifetime}, randomTicketer(lifetime, m.now)
}

// fileResumeMargin is the margin for certificates from files: their
// lifetimes are months, so a fixed margin fits.
const fileResumeMargin = 30 * time.Second
