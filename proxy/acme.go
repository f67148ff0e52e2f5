package proxy

import "crypto/tls"

const (
	// acmeTLS1 is the ALPN protocol of ACME's TLS-ALPN-01 challenge (RFC 8737).
	acmeTLS1 = "acme-tls/1"
	// reasonACMEChallenge closes an ACME CA's validation connection.
	reasonACMEChallenge = "acme_challenge"
)

// isACMEChallenge reports a server connection that negotiated acme-tls/1:
// an ACME CA validating the tunnel's domain. pki answers it with the
// challenge certificate alone and without client authentication (the CA
// has no client certificate). The handshake is the whole answer (RFC 8737
// section 3: no application data follows), so such a connection is
// closed, never carried to the target: it is not authenticated.
func isACMEChallenge(tc *tls.Conn) bool {
	return tc.ConnectionState().NegotiatedProtocol == acmeTLS1
}
