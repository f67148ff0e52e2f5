package integration

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// holdBackend accepts and then does nothing with a connection: it never
// reads (unless drain), never writes, never closes, until the test ends;
// a daemon that wedged.
func holdBackend(t *testing.T, drain bool) *backend {
	release := make(chan struct{})
	b := startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		if drain {
			_, _ = io.Copy(io.Discard, c) // up to the tunnel's half-close
		}
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before the backend's own cleanup
	return b
}

// heldTunnel runs a server tunnel with limits in front of a holdBackend.
func heldTunnel(t *testing.T, name string, drain bool, limits string) (*fixture, *proc) {
	f := newFixture(t)
	tn := f.serverTun(name, "127.0.0.1:0", holdBackend(t, drain).addr)
	tn.limits = limits
	return f, startRun(t, tn)
}

// closedWith waits for the tunnel's closing line with reason and returns
// how long the connection lasted.
func closedWith(t *testing.T, pt *proc, tunnel, reason string) time.Duration {
	t.Helper()
	e := pt.mustLog(t, ioTimeout, "connection closed with reason "+reason,
		logMatch("connection closed", "tunnel", tunnel, "reason", reason))
	s, err := strconv.ParseFloat(e.str("duration_s"), 64)
	if err != nil {
		t.Fatalf("closing line without duration_s: %v", e)
	}
	return time.Duration(s * float64(time.Second))
}

// TestCloseTimeoutEndsHalfClosed: the client sends its request and goes;
// the target never answers and never closes. Without close_timeout the
// connection (two descriptors and its buffers) stayed until the target
// died; with it, it ends close_timeout after the client's close.
func TestCloseTimeoutEndsHalfClosed(t *testing.T) {
	t.Parallel()
	f, pt := heldTunnel(t, "half", true, `    close_timeout = "1s"`)

	c := dialTLS(t, pt.listenAddr(t, "half"), f.clientTLS(f.client))
	if _, err := io.WriteString(c, "request\n"); err != nil {
		t.Fatal(err)
	}
	c.Close() // close_notify and FIN: the client is gone
	if took := closedWith(t, pt, "half", "close_timeout"); took < 900*time.Millisecond {
		t.Errorf("closed after %v, before close_timeout (1s) ran out", took)
	}
}

// TestWriteTimeoutEndsStalledTarget: a target that accepts and stops
// reading. The client's bytes fill the socket buffers, the tunnel's write
// to the target makes no progress, and write_timeout ends the connection
// (reason write_stalled) instead of holding it for ever.
func TestWriteTimeoutEndsStalledTarget(t *testing.T) {
	t.Parallel()
	f, pt := heldTunnel(t, "stalled", false, `    write_timeout = "1s"`)

	c := dialTLS(t, pt.listenAddr(t, "stalled"), f.clientTLS(f.client))
	sent := make(chan error, 1)
	go func() { sent <- writeUntilRefused(c) }()
	closedWith(t, pt, "stalled", "write_stalled")
	select {
	case <-sent: // the tunnel closed: the client's writes fail
	case <-time.After(ioTimeout):
		t.Fatal("the client could still write 20s after the tunnel closed the connection")
	}
}

// TestWriteTimeoutEndsClientNotReading: a client tunnel whose cleartext
// client asks for a large answer and stops reading it: the tunnel's write
// to the client stalls and write_timeout ends the connection.
func TestWriteTimeoutEndsClientNotReading(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	flood := startBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	srv := f.serverTun("srv", "127.0.0.1:0", flood.addr)
	pt := startRun(t, srv)
	cli := f.clientTun("cli", "127.0.0.1:0", pt.listenAddr(t, "srv"))
	cli.limits = `    write_timeout = "1s"`
	pc := startRun(t, cli)

	c := dial(t, pc.listenAddr(t, "cli"))
	if _, err := io.WriteString(c, "send me everything\n"); err != nil {
		t.Fatal(err)
	}
	closedWith(t, pc, "cli", "write_stalled")
	readToClose(t, c)
}

// writeUntilRefused writes to c until a write fails, bounded by ioTimeout.
func writeUntilRefused(c *tls.Conn) error {
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	chunk := bytes.Repeat([]byte("y"), 256<<10)
	for {
		if _, err := c.Write(chunk); err != nil {
			return err
		}
	}
}

// readToClose reads and drops what the tunnel had sent until the
// connection closes (EOF or reset), failing if it stays open ioTimeout.
func readToClose(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open %v after the tunnel closed it", ioTimeout)
	}
}
