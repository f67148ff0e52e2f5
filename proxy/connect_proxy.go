package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ConnectProxy is an HTTP proxy a client tunnel reaches its targets
// through, with one CONNECT request per dial. The caller prepares both
// fields from the config, so proxy never parses a URL that may hold
// credentials; Authorization is never logged.
type ConnectProxy struct {
	// Addr is the proxy's host:port; "" means no proxy.
	Addr string
	// Authorization, if set, is the value of the Proxy-Authorization
	// header ("Basic ...").
	Authorization string
}

// String names the proxy by its address alone.
func (p ConnectProxy) String() string { return p.Addr }

// LogValue keeps Authorization out of any log line that holds p.
func (p ConnectProxy) LogValue() slog.Value { return slog.StringValue(p.Addr) }

// on reports whether dials go through the proxy.
func (p ConnectProxy) on() bool { return p.Addr != "" }

// maxConnectResponse bounds the proxy's answer to CONNECT: status line and
// headers. A proxy sending more is refused, not read on and on.
const maxConnectResponse = 8 << 10

// Close reasons of a dial through the proxy.
const (
	reasonProxyDialFailed = "proxy_dial_failed"
	reasonProxyRefused    = "proxy_refused"
	reasonProxyTimeout    = "proxy_timeout"
)

// proxyError is a dial through the proxy that failed, with its close
// reason. proxyFault says the proxy failed whatever the target (it could
// not be reached, or refused our credentials): the target is not put in
// backoff and the others are not tried.
type proxyError struct {
	reason     string
	proxyFault bool
	err        error
}

func (e *proxyError) Error() string { return e.err.Error() }
func (e *proxyError) Unwrap() error { return e.err }

// dialReason is the close reason of a failed dial: the proxy's, if the
// dial went through one, else target_dial_failed.
func dialReason(err error) string {
	var pe *proxyError
	if errors.As(err, &pe) {
		return pe.reason
	}
	return reasonDialFailed
}

// dialVia connects to target, through the tunnel's CONNECT proxy if it has
// one. early holds what the proxy sent after its answer's headers (the
// target's first bytes, rarely any), which the caller reads first. The
// proxy dial and the CONNECT exchange share d.Timeout.
func (c *conn) dialVia(ctx context.Context, d *net.Dialer, target Address) (raw net.Conn, early []byte, err error) {
	p := c.opts.ConnectProxy
	if !p.on() {
		raw, err = d.DialContext(ctx, string(target.Network), target.Addr)
		return raw, nil, err
	}
	start := time.Now()
	raw, err = d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, nil, &proxyError{reasonProxyDialFailed, true, fmt.Errorf("connect_proxy %s: %w", p.Addr, err)}
	}
	if d.Timeout > 0 {
		raw.SetDeadline(start.Add(d.Timeout))
	}
	// An abort (drain, shutdown) cancels ctx: the exchange ends at once.
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	early, err = connectExchange(raw, target.Addr, p.Authorization)
	stop()
	if err == nil {
		err = raw.SetDeadline(time.Time{})
	}
	if err != nil {
		raw.Close()
		return nil, nil, proxyFailure(p.Addr, target.Addr, err)
	}
	return raw, early, nil
}

// proxyFailure names a failed CONNECT exchange with its close reason.
func proxyFailure(proxyAddr, target string, err error) error {
	var refused *connectRefused
	var ne net.Error
	switch {
	case errors.As(err, &refused):
		// 407: our credentials, whichever the target.
		return &proxyError{reasonProxyRefused, refused.code == 407,
			fmt.Errorf("connect_proxy %s refused CONNECT %s: %w", proxyAddr, target, err)}
	case errors.As(err, &ne) && ne.Timeout():
		return &proxyError{reasonProxyTimeout, false,
			fmt.Errorf("connect_proxy %s: no answer to CONNECT %s within connect_timeout: %w", proxyAddr, target, err)}
	}
	return &proxyError{reasonProxyRefused, false, fmt.Errorf("connect_proxy %s: CONNECT %s: %w", proxyAddr, target, err)}
}

// connectRefused is a proxy's answer other than 2xx.
type connectRefused struct {
	code   int
	status string // the status line, made printable
}

func (e *connectRefused) Error() string { return "answered " + e.status }

// connectExchange asks the proxy on conn for a tunnel to target (host:port)
// and reads its answer, at most maxConnectResponse bytes of it. It returns
// the bytes read past the answer's headers.
func connectExchange(conn net.Conn, target, authorization string) ([]byte, error) {
	var req strings.Builder
	fmt.Fprintf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if authorization != "" {
		fmt.Fprintf(&req, "Proxy-Authorization: %s\r\n", authorization)
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return nil, fmt.Errorf("sending CONNECT: %w", err)
	}
	br := bufio.NewReaderSize(&boundedReader{r: conn, left: maxConnectResponse}, maxConnectResponse)
	status, err := readLine(br)
	if err != nil {
		return nil, err
	}
	code, err := parseStatus(status)
	if err != nil {
		return nil, err
	}
	if code < 200 || code > 299 {
		return nil, &connectRefused{code: code, status: printable(status)}
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
	}
	if br.Buffered() == 0 {
		return nil, nil
	}
	early, _ := br.Peek(br.Buffered())
	return append([]byte(nil), early...), nil
}

// errResponseTooLarge: the proxy's answer passed maxConnectResponse.
var errResponseTooLarge = fmt.Errorf("answer to CONNECT larger than %d bytes", maxConnectResponse)

// boundedReader fails with errResponseTooLarge past left bytes.
type boundedReader struct {
	r    io.Reader
	left int
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errResponseTooLarge
	}
	p = p[:min(len(p), b.left)]
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// readLine reads one header line without its CRLF (or LF).
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", errResponseTooLarge
	case errors.Is(err, io.EOF):
		return "", errors.New("proxy closed the connection before the end of its answer to CONNECT")
	case err != nil:
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// parseStatus reads the code of an HTTP/1.x status line.
func parseStatus(line string) (int, error) {
	proto, rest, _ := strings.Cut(line, " ")
	codeText, _, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeText)
	if err != nil || len(codeText) != 3 || codeText[0] == '+' || !strings.HasPrefix(proto, "HTTP/1.") {
		return 0, fmt.Errorf("not an HTTP/1.x answer to CONNECT: %q", printable(line))
	}
	return code, nil
}

// printable is s cut to 100 bytes with anything unprintable replaced: the
// proxy's words go into our log lines.
func printable(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}
