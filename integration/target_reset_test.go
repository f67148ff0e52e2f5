package integration

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// endOf dials addr (with TLS when conf is set), writes line unless it is
// empty, and returns how the connection ended: the error of the connect,
// handshake, write or read that failed first, or io.EOF for a clean end.
// A client that writes to a socket the tunnel has closed gets a reset from
// the kernel whatever the tunnel did, so only a client that waits to read
// tells a reset from a clean end.
func endOf(addr string, conf *tls.Config, line string) error {
	raw, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err // on loopback the reset can beat the connect to the finish
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(ioTimeout))
	c := raw
	if conf != nil {
		tc := tls.Client(raw, conf)
		if err := tc.Handshake(); err != nil {
			return err
		}
		c = tc
	}
	// Not even an empty write when there is no line: write(2) of 0 bytes
	// reports a pending reset, and clears it, so the read after it would
	// see a plain end.
	if line != "" {
		if _, err := io.WriteString(c, line); err != nil {
			return err
		}
	}
	_, err = io.Copy(io.Discard, c)
	if err == nil {
		return io.EOF
	}
	return err
}

// resetMidStream is a target that reads the first line and then resets
// the connection.
func resetMidStream(c net.Conn) {
	_, _ = bufio.NewReader(c).ReadString('\n')
	_ = c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

// TestTargetFailureResetsClient: a client of a tunnel whose target cannot
// be dialled, or resets mid-stream, is reset in turn, in both modes, so
// that it can tell a dead target from an empty reply. Before, it read a
// clean end of stream. Each reset is on the closing line and counted.
func TestTargetFailureResetsClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resetting := startBackend(t, "tcp", "127.0.0.1:0", resetMidStream)
	down := f.serverTun("down", "127.0.0.1:0", deadTarget(t))
	midway := f.serverTun("midway", "127.0.0.1:0", resetting.addr)
	clientDown := f.clientTun("client_down", "127.0.0.1:0", deadTarget(t))
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configText(down, midway, clientDown), nil)
	admin := newAdminClient(t, pt.adminAddr(t, 0))

	for _, c := range []struct {
		tunnel, reason string
		conf           *tls.Config // nil: a cleartext client of a client tunnel
		line           string      // what the client sends first
	}{
		{"down", "target_dial_failed", f.clientTLS(f.client), ""},
		{"midway", "reset", f.clientTLS(f.client), "hello\n"}, // read by the target before it resets
		{"client_down", "target_dial_failed", nil, ""},
	} {
		if err := endOf(pt.listenAddr(t, c.tunnel), c.conf, c.line); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: the client's connection ended with %v, want a reset", c.tunnel, err)
		}
		pt.mustLog(t, ioTimeout, c.tunnel+" closing line with reset_peer",
			logMatch("connection closed", "tunnel", c.tunnel, "reason", c.reason, "reset_peer", "true"))
		admin.waitMetric(t, `passtunnel_peer_resets_total{reason="`+c.reason+`",tunnel="`+c.tunnel+`"}`, 1, ioTimeout)
	}
}
