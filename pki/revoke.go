package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"

	"github.com/passtunnel/passtunnel/config"
)

// ReasonRevoked is the handshake failure reason of a peer refused by
// tls.crl or deny { }: both say "this certificate no longer counts".
const ReasonRevoked = "revoked"

// revokedError refuses a peer certificate that tls.crl or deny { } lists.
// It names its reason itself (proxy reads HandshakeReason), so the refusal
// is logged and counted as "revoked", not as a bad certificate.
type revokedError struct {
	cert *x509.Certificate
	why  string
}

func (e *revokedError) Error() string {
	return fmt.Sprintf("peer certificate %s (CN=%q, serial %s) %s",
		Fingerprint(e.cert.Raw), e.cert.Subject.CommonName, serialHex(e.cert), e.why)
}

// HandshakeReason is the reason proxy logs and counts the refusal under.
func (e *revokedError) HandshakeReason() string { return ReasonRevoked }

// serialHex is a serial number as openssl prints it with colons.
func serialHex(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	if len(b) == 0 {
		return "00"
	}
	out := make([]byte, 0, 3*len(b))
	for i, x := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = fmt.Appendf(out, "%02x", x)
	}
	return string(out)
}

// denyList is deny { }, compiled: certificates refused whatever else
// accepts them.
type denyList struct {
	fingerprints pinSet
	serials      map[string]bool // decimal
}

// compileDeny returns nil when the tunnel denies nothing.
func compileDeny(t *config.Tunnel) (*denyList, error) {
	d := t.Deny
	if d.Empty() {
		return nil, nil
	}
	l := &denyList{fingerprints: pinSet{}, serials: map[string]bool{}}
	for _, f := range d.Fingerprints {
		sum, err := parsePin(f)
		if err != nil {
			return nil, fieldError(t, "deny.fingerprints", err)
		}
		l.fingerprints[sum] = true
	}
	for _, s := range d.Serials {
		n, err := config.ParseSerial(s)
		if err != nil {
			return nil, fieldError(t, "deny.serials", err)
		}
		l.serials[n.String()] = true
	}
	return l, nil
}

// check refuses a peer whose accepted certificate, or any certificate it
// sent, has a denied fingerprint, or whose leaf (accepted or sent) has a
// denied serial. Serials are only unique per CA, so they are matched on
// the leaf alone.
func (l *denyList) check(accepted *x509.Certificate, certs []*x509.Certificate) error {
	for _, c := range append([]*x509.Certificate{accepted}, certs...) {
		if l.fingerprints[sha256.Sum256(c.Raw)] {
			return &revokedError{cert: c, why: "is listed in deny.fingerprints"}
		}
	}
	for _, c := range []*x509.Certificate{accepted, certs[0]} {
		if l.serials[c.SerialNumber.String()] {
			return &revokedError{cert: c, why: "is listed in deny.serials"}
		}
	}
	return nil
}
