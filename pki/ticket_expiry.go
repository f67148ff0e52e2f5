package pki

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"time"
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

// sessionExpiry returns the expiry recorded in a session, if any.
func sessionExpiry(ss *tls.SessionState) (time.Time, bool) {
	for _, e := range ss.Extra {
		if v, ok := bytes.CutPrefix(e, expiryTag); ok && len(v) == 8 {
			return time.Unix(int64(binary.BigEndian.Uint64(v)), 0), true
		}
	}
	return time.Time{}, false
}

// setSessionExpiry records t in ss, keeping the earlier of t and a value a
// resumed session already carried (its original certificates).
func setSessionExpiry(ss *tls.SessionState, t time.Time) {
	if old, ok := sessionExpiry(ss); ok && old.Before(t) {
		t = old
	}
	entry := binary.BigEndian.AppendUint64(append([]byte(nil), expiryTag...), uint64(t.Unix()))
	for i, e := range ss.Extra {
		if bytes.HasPrefix(e, expiryTag) {
			ss.Extra[i] = entry
			return
		}
	}
	ss.Extra = append(ss.Extra, entry)
}

// expiringTickets wraps a ticketer with the expiry bookkeeping above. own
// returns this node's current certificate, the one a full handshake serves.
func expiringTickets(tk *ticketer, own func() (*tls.Certificate, error), validity time.Duration, now func() time.Time) (
	wrap func(tls.ConnectionState, *tls.SessionState) ([]byte, error),
	unwrap func([]byte, tls.ConnectionState) (*tls.SessionState, error),
) {
	wrap = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		first := time.Time{}
		if len(cs.PeerCertificates) > 0 {
			first = cs.PeerCertificates[0].NotAfter
		}
		if c, err := own(); err == nil && c.Leaf != nil && (first.IsZero() || c.Leaf.NotAfter.Before(first)) {
			first = c.Leaf.NotAfter
		}
		if !first.IsZero() {
			setSessionExpiry(ss, first)
		}
		return tk.wrap(cs, ss)
	}
	unwrap = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := tk.unwrap(identity, cs)
		if err != nil || ss == nil {
			return ss, err
		}
		if exp, ok := sessionExpiry(ss); ok && !now().Add(resumeMargin(validity)).Before(exp) {
			return nil, nil // full handshake, fresh certificates
		}
		return ss, nil
	}
	return wrap, unwrap
}
