package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"

	"github.com/pires/go-proxyproto"
	"github.com/pires/go-proxyproto/tlvparse"
)

// sendHeader writes the PROXY header to a target just dialed, before any
// other byte: in client mode that is before the TLS handshake with the
// target, where a TLS server with PROXY support (HAProxy's accept-proxy, a
// passtunnel server tunnel with proxy_protocol.accept) reads it. accepted is
// the client's TLS connection to the tunnel in server mode, nil in client
// mode, and verified the certificate its verification accepted; the TLVs
// describe them.
func (c *conn) sendHeader(target net.Conn, accepted *tls.Conn, verified *x509.Certificate) error {
	version := sendsHeader(c.opts)
	if version == 0 {
		return nil
	}
	h := c.outboundHeader(version)
	if version == 2 && c.opts.ProxyProtocol.TLSTLVs {
		tlvs, err := tlsTLVs(accepted, verified)
		if err == nil {
			err = h.SetTLVs(tlvs)
		}
		if err != nil {
			return fmt.Errorf("build PROXY v2 TLVs: %w", err)
		}
	}
	if _, err := h.WriteTo(target); err != nil {
		return fmt.Errorf("write PROXY v%d header to %s: %w", version, c.dialled, err)
	}
	return nil
}

// outboundHeader names the client as the source (from the balancer's
// header when there was one) and the tunnel's address it reached as the
// destination. A client on a unix socket has no address a header can carry:
// the header is then LOCAL (v2) or UNKNOWN (v1), which tells the target to
// use the connection's own addresses.
func (c *conn) outboundHeader(version byte) *proxyproto.Header {
	src, srcOK := c.remote.(*net.TCPAddr)
	dst, dstOK := c.peer.LocalAddr().(*net.TCPAddr)
	if !dstOK {
		// A balancer on a unix listener: the destination it names is the
		// one the client used.
		dst, dstOK = c.claimedDst.(*net.TCPAddr)
	}
	if srcOK && dstOK {
		return proxyproto.HeaderProxyFromAddrs(version, src, dst)
	}
	return &proxyproto.Header{Version: version, Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}
}

// tlsTLVs describe the client's connection to the tunnel, as HAProxy's
// send-proxy-v2-ssl does: the negotiated ALPN protocol, the SNI name
// (PP2_TYPE_AUTHORITY), and PP2_TYPE_SSL with the TLS version and the CN
// of the client certificate that verification accepted (verified, never
// the first certificate the client sent: see Options.Peer); verify is 0
// only with such a certificate. In client mode the client's connection is
// cleartext, so PP2_TYPE_SSL says just that (no flags); the target's TLS
// cannot be described either, as the header goes out before that handshake.
func tlsTLVs(accepted *tls.Conn, verified *x509.Certificate) ([]proxyproto.TLV, error) {
	ssl := tlvparse.PP2SSL{Verify: 1} // non-zero: no verified client certificate
	var tlvs []proxyproto.TLV
	if accepted != nil {
		st := accepted.ConnectionState()
		if st.NegotiatedProtocol != "" {
			tlvs = append(tlvs, proxyproto.TLV{Type: proxyproto.PP2_TYPE_ALPN, Value: []byte(st.NegotiatedProtocol)})
		}
		if st.ServerName != "" {
			tlvs = append(tlvs, proxyproto.TLV{Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte(st.ServerName)})
		}
		ssl.Client = tlvparse.PP2_BITFIELD_CLIENT_SSL
		ssl.TLV = append(ssl.TLV, proxyproto.TLV{Type: proxyproto.PP2_SUBTYPE_SSL_VERSION, Value: []byte(sslVersion(st.Version))})
		if len(st.PeerCertificates) > 0 {
			ssl.Client |= tlvparse.PP2_BITFIELD_CLIENT_CERT_SESS
			if !st.DidResume {
				ssl.Client |= tlvparse.PP2_BITFIELD_CLIENT_CERT_CONN
			}
		}
		if verified != nil {
			ssl.Verify = 0
			if cn := verified.Subject.CommonName; cn != "" {
				ssl.TLV = append(ssl.TLV, proxyproto.TLV{Type: proxyproto.PP2_SUBTYPE_SSL_CN, Value: []byte(cn)})
			}
		}
	}
	t, err := ssl.Marshal()
	return append(tlvs, t), err
}

// sslVersion spells a TLS version the way HAProxy and OpenSSL put it in
// PP2_SUBTYPE_SSL_VERSION, which is what backends compare against.
func sslVersion(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return tls.VersionName(v)
}
