package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/passtunnel/passtunnel/proxy/internal/pump"
)

// Refusal reasons of the PROXY protocol, in logs and Stats.Refused.
const (
	reasonProxyUntrusted = "proxy_untrusted"
	reasonProxyHeader    = "proxy_header"
	reasonProxyMalformed = "proxy_malformed"
)

// malformedHeader is a PROXY header that parsed but does not hold
// together (a TLV longer than the header): its addresses are not believed.
type malformedHeader struct{ err error }

func (m malformedHeader) Error() string {
	return "malformed PROXY v2 header, refused whatever it claims: " + m.err.Error()
}
func (m malformedHeader) Unwrap() error { return m.err }

// headerBufSize is the buffer a PROXY header is read through. go-proxyproto
// wants a whole v1 header (107 bytes at most) from a single read, its guard
// against senders that trickle it; longer v2 headers stream through.
const headerBufSize = 512

// acceptHeader runs first on a connection of a tunnel that accepts PROXY
// headers: it reads the header within handshake_timeout, makes the client
// it names the connection's peer, and applies per_source_rate and
// per_source_handshakes to that client (the accept loop could not: it only
// knew the balancer, which carries every client). ok false
// means the connection is over; refusals are already counted and logged.
func (c *conn) acceptHeader() (res outcome, ok bool) {
	if !acceptsHeader(c.opts) {
		return outcome{}, true
	}
	h, err := c.readHeader()
	if err == nil {
		err = c.useHeader(h)
	}
	if err != nil {
		if r := c.abortReason(); r != "" {
			return outcome{reason: r}, false
		}
		reason := reasonProxyHeader
		if errors.As(err, new(malformedHeader)) {
			reason = reasonProxyMalformed
		}
		c.refuse(reason, err)
		return outcome{reason: reason, logged: true}, false
	}
	if !c.t.lim.Load().allowSource(c.remote) {
		c.refuse(reasonPerSourceRate, nil)
		return outcome{reason: reasonPerSourceRate, logged: true}, false
	}
	hold, reason := c.t.holdHandshake(c.opts, c.remote)
	if reason != "" {
		c.refuse(reason, nil)
		return outcome{reason: reason, logged: true}, false
	}
	c.hs = hold
	return outcome{}, true
}

// readHeader reads one PROXY header. Bytes that arrived with it (a
// ClientHello, or a cleartext client's first request) are kept in early.
func (c *conn) readHeader() (*proxyproto.Header, error) {
	timeout := c.opts.Limits.HandshakeTimeout
	if timeout > 0 {
		c.hsDeadline = c.start.Add(timeout)
		if err := c.peer.SetReadDeadline(c.hsDeadline); err != nil {
			return nil, fmt.Errorf("set header deadline: %w", err)
		}
	}
	h, early, err := parseHeader(c.peer)
	if cerr := c.peer.SetReadDeadline(time.Time{}); err == nil && cerr != nil {
		return nil, fmt.Errorf("clear header deadline: %w", cerr)
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return nil, fmt.Errorf("no complete PROXY header within handshake_timeout (%v): %w", timeout, err)
	case errors.Is(err, proxyproto.ErrNoProxyProtocol):
		return nil, fmt.Errorf("no PROXY header: the connection does not start with one: %w", err)
	case err != nil:
		return nil, fmt.Errorf("invalid PROXY header: %w", err)
	}
	c.early = early
	return h, nil
}

// parseHeader reads one PROXY header from r and returns it with the bytes
// read past it (nil if none), which belong to the connection.
func parseHeader(r io.Reader) (*proxyproto.Header, []byte, error) {
	br := bufio.NewReaderSize(r, headerBufSize)
	h, err := proxyproto.Read(br)
	if err != nil {
		return nil, nil, err
	}
	var early []byte
	if n := br.Buffered(); n > 0 {
		rest, _ := br.Peek(n) // cannot fail: n bytes are buffered
		early = bytes.Clone(rest)
	}
	return h, early, nil
}

// useHeader checks h against proxy_protocol.accept and takes the addresses
// it carries. A LOCAL header (v2 LOCAL, v1 UNKNOWN) is the balancer's own
// connection, a health check: the spec says to keep the real addresses.
func (c *conn) useHeader(h *proxyproto.Header) error {
	if err := checkHeader(h, c.opts.ProxyProtocol.Accept); err != nil {
		return err
	}
	if h.Command.IsLocal() {
		return nil
	}
	c.via, c.remote, c.claimedDst = c.peer.RemoteAddr(), h.SourceAddr, h.DestinationAddr
	return nil
}

// checkHeader is what useHeader asks of a header before believing it,
// apart from the connection: want is proxy_protocol.accept.
func checkHeader(h *proxyproto.Header, want string) error {
	if (want == "v1" && h.Version != 1) || (want == "v2" && h.Version != 2) {
		return fmt.Errorf("got a v%d PROXY header, proxy_protocol.accept is %q", h.Version, want)
	}
	// go-proxyproto takes the TLV bytes as they come; one that overruns
	// the header's length would be read past what the sender vouched for.
	if _, err := h.TLVs(); err != nil {
		return malformedHeader{err}
	}
	if h.Command.IsLocal() {
		return nil
	}
	if !h.TransportProtocol.IsStream() || h.SourceAddr == nil {
		return fmt.Errorf("PROXY header for a connection that is not a stream (family/protocol 0x%02x)",
			byte(h.TransportProtocol))
	}
	return nil
}

// refuse ends a connection the tunnel had admitted: counted with the
// refusals of the accept loop, and logged through the throttle, since a
// peer can cause it at will.
func (c *conn) refuse(reason string, err error) {
	c.t.stats.refuse(reason)
	args := append(c.peerArgs(), "reason", reason)
	if err != nil {
		args = append(args, "error", err)
	}
	c.t.warn.Warn("connection refused", args...)
}

// peerArgs name the client in a log line, and the balancer it came through.
func (c *conn) peerArgs() []any {
	args := []any{"peer", addrString(c.remote)}
	if c.via != nil {
		args = append(args, "via", addrString(c.via))
	}
	return args
}

// handshakeTimeout is what is left of handshake_timeout for the server-mode
// TLS handshake: the PROXY header before it shares the same deadline, so a
// slow sender cannot take the allowance twice.
func (c *conn) handshakeTimeout() time.Duration {
	if c.hsDeadline.IsZero() {
		return c.opts.Limits.HandshakeTimeout
	}
	return max(time.Until(c.hsDeadline), time.Nanosecond) // 0 would mean no deadline
}

// takeEarly hands over the bytes read past the PROXY header, once.
func (c *conn) takeEarly() []byte {
	early := c.early
	c.early = nil
	return early
}

// prefixConn returns early before reading from Conn. It keeps CloseWrite,
// which the pump's half-close looks for under a *tls.Conn.
type prefixConn struct {
	net.Conn
	early []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.early) > 0 {
		n := copy(b, p.early)
		p.early = p.early[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

func (p *prefixConn) CloseWrite() error { return pump.CloseWrite(p.Conn) }
