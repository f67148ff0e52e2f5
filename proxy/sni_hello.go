package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// maxClientHelloBytes bounds what a Group reads of a connection before it
// knows the tunnel: a ClientHello is a few hundred bytes to 2 KiB (with a
// post-quantum key share); 16 KiB is one full TLS record and leaves room
// for padding and many extensions.
const maxClientHelloBytes = 16 << 10

// helloTooLarge ends a ClientHello read that passed maxClientHelloBytes.
var helloTooLarge = fmt.Errorf("no complete ClientHello within the first %d bytes", maxClientHelloBytes)

// errHelloRead aborts the probing handshake once the ClientHello is parsed.
var errHelloRead = errors.New("ClientHello read")

// helloRecorder keeps every byte the probing handshake reads, for the
// tunnel's own handshake to read again, and swallows what it writes: the
// client must see nothing of the probe.
type helloRecorder struct {
	net.Conn
	buf []byte
}

func (r *helloRecorder) Read(b []byte) (int, error) {
	room := maxClientHelloBytes - len(r.buf)
	if room <= 0 {
		return 0, helloTooLarge
	}
	if len(b) > room {
		b = b[:room]
	}
	n, err := r.Conn.Read(b)
	r.buf = append(r.buf, b[:n]...)
	return n, err
}

func (r *helloRecorder) Write(b []byte) (int, error) { return len(b), nil }

// readClientHello reads the ClientHello on raw until deadline and returns
// the server name it asks for ("" for none) and every byte read. crypto/tls
// parses it, as the tunnel's handshake will: a hello that one rejects, the
// other never sees. The probe stops in GetConfigForClient, before it would
// answer.
func readClientHello(raw net.Conn, deadline time.Time) (string, []byte, error) {
	if err := raw.SetReadDeadline(deadline); err != nil {
		return "", nil, fmt.Errorf("set the ClientHello deadline: %w", err)
	}
	rec := &helloRecorder{Conn: raw}
	var name string
	var parsed bool
	probe := tls.Server(rec, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			name, parsed = h.ServerName, true
			return nil, errHelloRead
		},
	})
	err := probe.Handshake()
	if cerr := raw.SetReadDeadline(time.Time{}); parsed && cerr != nil {
		return "", nil, fmt.Errorf("clear the ClientHello deadline: %w", cerr)
	}
	if !parsed {
		return "", nil, err
	}
	return name, rec.buf, nil
}

// helloReason is the refusal reason of a ClientHello that did not arrive:
// client_hello_ and the handshake failure reason its error would have
// (client_hello_timeout, client_hello_not_tls, ...).
func helloReason(err error) string {
	if errors.Is(err, helloTooLarge) {
		return "client_hello_too_large"
	}
	return "client_hello_" + classifyHandshake(err)
}

// unrecognizedName is a TLS fatal alert unrecognized_name (112), sent
// before any ServerHello, so in a plaintext record.
var unrecognizedName = []byte{21, 3, 3, 0, 2, 2, 112}

// alertTimeout bounds the write of the alert: the socket's buffer is
// empty, so only a broken connection waits.
const alertTimeout = time.Second

// sendUnrecognizedName tells a client that no tunnel has the name it
// asked for, rather than closing without a word. Best effort.
func sendUnrecognizedName(raw net.Conn) {
	if raw.SetWriteDeadline(time.Now().Add(alertTimeout)) == nil {
		_, _ = raw.Write(unrecognizedName)
	}
}
