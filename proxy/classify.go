package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
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
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
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

// closeReason names how the pump ended when nothing outside (timers, drain)
// closed the connection first.
func closeReason(err error) string {
	switch {
	case err == nil:
		return "eof"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken_pipe"
	}
	return "error"
}
