package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/passtunnel/passtunnel/proxy/internal/sock"
)

// Handshake failure reasons, used in logs and as metric labels.
const (
	hsTimeout          = "timeout"
	hsNotTLS           = "not_tls"
	hsNoClientCert     = "no_client_cert"
	hsUnknownAuthority = "unknown_authority"
	hsBadCertificate   = "bad_certificate"
	hsProtocolVersion  = "protocol_version"
	hsEOF              = "eof"
	hsOther            = "other"
)

// certificateReason reports whether a failure is about who the peer is,
// rather than about the transport (timeouts, resets, not TLS at all).
func certificateReason(reason string) bool {
	switch reason {
	case hsNoClientCert, hsUnknownAuthority, hsBadCertificate, hsOther:
		return true
	}
	return false
}

// classifyHandshake maps a TLS handshake error to a small, stable set of
// reasons. crypto/tls exports types for some failures only; the rest are
// recognised by the text of its errors and of the alerts a peer sends.
func classifyHandshake(err error) string {
	var (
		netErr     net.Error
		recordErr  tls.RecordHeaderError
		unknownCA  x509.UnknownAuthorityError
		invalid    x509.CertificateInvalidError
		hostname   x509.HostnameError
		alertErr   tls.AlertError
		verifyFail *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		return hsTimeout
	case errors.As(err, &recordErr):
		return hsNotTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		sock.Reset(err), sock.BrokenPipe(err):
		return hsEOF
	case errors.As(err, &unknownCA):
		return hsUnknownAuthority
	case errors.As(err, &invalid), errors.As(err, &hostname), errors.As(err, &verifyFail):
		return hsBadCertificate
	case errors.As(err, &alertErr):
		return classifyAlertText(alertErr.Error())
	}
	return classifyText(err.Error())
}

// classifyText recognises crypto/tls errors that have no exported type,
// including alerts received from the peer ("remote error: tls: ...").
func classifyText(msg string) string {
	switch {
	case strings.Contains(msg, "didn't provide a certificate"):
		return hsNoClientCert
	case strings.Contains(msg, "unsupported versions"),
		strings.Contains(msg, "unsupported protocol version"):
		return hsProtocolVersion
	case strings.Contains(msg, "remote error: "):
		return classifyAlertText(msg)
	}
	return hsOther
}

// classifyAlertText maps the text of a TLS alert to a reason.
func classifyAlertText(msg string) string {
	switch {
	case strings.Contains(msg, "certificate required"):
		return hsNoClientCert
	case strings.Contains(msg, "unknown certificate authority"):
		return hsUnknownAuthority
	case strings.Contains(msg, "bad certificate"),
		strings.Contains(msg, "unsupported certificate"),
		strings.Contains(msg, "revoked certificate"),
		strings.Contains(msg, "expired certificate"),
		strings.Contains(msg, "unknown certificate"):
		return hsBadCertificate
	case strings.Contains(msg, "protocol version not supported"):
		return hsProtocolVersion
	}
	return hsOther
}

// distrusted is a server handshake that failed the way an OpenSSL client
// (s_client, stunnel, HAProxy) ends TLS 1.3 when it does not trust the
// server's certificate: its alert comes under keys the server no longer
// reads with, and crypto/tls can only report "bad record MAC".
type distrusted struct{ err error }

func (d distrusted) Error() string {
	return d.err.Error() + " (the peer probably does not trust this tunnel's certificate: a TLS 1.3 client " +
		"that refuses it ends the handshake this way; check the CA the client trusts and the name it expects)"
}

func (d distrusted) Unwrap() error { return d.err }

func (distrusted) HandshakeReason() string { return hsBadCertificate }

// explainServerHandshake names the likely cause of a server handshake's
// failure where crypto/tls's error alone misleads.
func explainServerHandshake(tc *tls.Conn, err error) error {
	cs := tc.ConnectionState()
	if !cs.HandshakeComplete && cs.Version == tls.VersionTLS13 && strings.Contains(err.Error(), "bad record MAC") {
		return distrusted{err}
	}
	return err
}

// reasoned is an error that names its own handshake failure reason, such
// as pki's shared-secret mismatch ("shared_secret"): proxy knows nothing of
// pki, and the text of such errors is not for parsing.
type reasoned interface{ HandshakeReason() string }

// handshakeReason is the reason a failed handshake is logged and counted
// under.
func handshakeReason(err error) string {
	var r reasoned
	if errors.As(err, &r) {
		return r.HandshakeReason()
	}
	return classifyHandshake(err)
}
