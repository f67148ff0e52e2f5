package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"path/filepath"
	"testing"
)

// chain starts a server tunnel in front of target and a client tunnel (in a
// second process) in front of it; addr is the client tunnel's address.
func chain(t *testing.T, f *fixture, target string) (srv, cli *proc, addr string) {
	t.Helper()
	srv = startRun(t, f.serverTun("srv", "127.0.0.1:0", target))
	cli = startRun(t, f.clientTun("cli", "127.0.0.1:0", srv.listenAddr(t, "srv")))
	return srv, cli, cli.listenAddr(t, "cli")
}

// TestLargeStreamBothWays: 64 MiB up and the same 64 MiB echoed back through
// client tunnel -> server tunnel -> echo, checked by SHA-256 on both ends.
func TestLargeStreamBothWays(t *testing.T) {
	t.Parallel()
	const size = 64 << 20
	f := newFixture(t)
	be := startEcho(t)
	srv, cli, addr := chain(t, f, be.addr)
	c := dial(t, addr)

	sent := sha256.New()
	werr := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, io.TeeReader(stream(1, size), sent))
		closeWrite(c)
		werr <- err
	}()
	got, n, err := digest(c)
	if err != nil {
		t.Fatalf("read after %d bytes: %v", n, err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if n != size || got != hex.EncodeToString(sent.Sum(nil)) {
		t.Fatalf("received %d bytes with sha256 %s, sent %d with %x", n, got, size, sent.Sum(nil))
	}

	// Both tunnels account for every byte in their close line.
	for _, p := range []*proc{srv, cli} {
		e := p.mustLog(t, ioTimeout, "connection closed", logMatch("connection closed"))
		if e.num("bytes_in") != size || e.num("bytes_out") != size {
			t.Errorf("%s: connection closed with bytes_in=%v bytes_out=%v, want %d each",
				p.label, e["bytes_in"], e["bytes_out"], size)
		}
	}
}

// TestHalfCloseReplyAfterEOF: the client finishes writing first; the backend
// answers only after reading EOF, and the whole answer still arrives.
func TestHalfCloseReplyAfterEOF(t *testing.T) {
	t.Parallel()
	const (
		reqSize   = 8 << 20
		replySize = 16 << 20
	)
	f := newFixture(t)
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			address := "127.0.0.1:0"
			if network == "unix" {
				address = filepath.Join(shortTempDir(t), "b.sock")
			}
			be := startBackend(t, network, address, replyAfterEOF(3, replySize))
			_, _, addr := chain(t, f, be.addr)
			c := dial(t, addr)

			reqSum, _, err := digest(stream(2, reqSize))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(c, stream(2, reqSize)); err != nil {
				t.Fatalf("write request: %v", err)
			}
			if err := c.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatalf("CloseWrite: %v", err)
			}
			head := make([]byte, 64)
			if _, err := io.ReadFull(c, head); err != nil {
				t.Fatalf("read reply head: %v", err)
			}
			if string(head) != reqSum {
				t.Fatalf("backend saw request sha256 %s, sent %s", head, reqSum)
			}
			got, n, err := digest(c)
			if err != nil {
				t.Fatalf("read reply after %d bytes: %v", n, err)
			}
			want, _, _ := digest(stream(3, replySize))
			if n != replySize || got != want {
				t.Fatalf("reply: %d bytes sha256 %s, want %d bytes %s", n, got, replySize, want)
			}
		})
	}
}
