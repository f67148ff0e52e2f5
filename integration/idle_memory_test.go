package integration

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// TestIdleConnectionsGiveBackBurstMemory: once a burst of connections has
// gone idle, the tunnel gives back the memory the burst used and their
// idle state does not need (the directions' goroutine stacks, the garbage
// of the handshakes). Without the trimmer a thousand idle connections held
// 34 KiB of private memory each, the stacks and garbage of the burst
// included; with it 19-20.
func TestIdleConnectionsGiveBackBurstMemory(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	const conns = 1000
	f := newFixture(t)
	be := startEcho(t)
	tn := f.serverTun("burst", "127.0.0.1:0", be.addr)
	tn.limits = fmt.Sprintf("    max_connections = %d", 2*conns)
	pt := runText(t, configText(tn), nil)
	addr := pt.listenAddr(t, "burst")
	base, err := anonRSS(pt.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range openIdle(t, addr, f.clientTLS(f.client), conns) {
		t.Cleanup(func() { c.Close() })
	}
	const bound = 26 << 10 // bytes per connection
	var per int64
	testwait.Poll(t, 30*time.Second, func() error {
		n, err := anonRSS(pt.cmd.Process.Pid)
		if per = (n - base) / conns; err == nil && per > bound {
			err = fmt.Errorf("%d idle connections hold %d KiB of private memory each, want under %d", conns, per>>10, bound>>10)
		}
		return err
	})
	t.Logf("%d idle connections: %d KiB of private memory each", conns, per>>10)
}

// openIdle opens n TLS connections to addr, 16 at a time, each carrying
// one echoed line, and returns them open.
func openIdle(t *testing.T, addr string, cfg *tls.Config, n int) []net.Conn {
	t.Helper()
	var (
		mu    sync.Mutex
		open  []net.Conn
		first error
		wg    sync.WaitGroup
	)
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 16 {
		wg.Go(func() {
			for range next {
				c, err := echoedConn(addr, cfg)
				mu.Lock()
				if err == nil {
					open = append(open, c)
				} else if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		for _, c := range open {
			c.Close()
		}
		t.Fatal(first)
	}
	return open
}

// echoedConn dials addr and checks one line comes back.
func echoedConn(addr string, cfg *tls.Config) (net.Conn, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err = io.WriteString(c, "idle soon\n"); err == nil {
		_, err = bufio.NewReader(c).ReadString('\n')
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, c.SetDeadline(time.Time{})
}
