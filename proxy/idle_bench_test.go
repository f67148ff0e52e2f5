package proxy

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// BenchmarkTunnelIdle reports what an idle connection costs a server
// tunnel (in a child process, see startBenchChild). Each of idleConns
// connections makes a handshake and one echo, then stays open. Per
// connection it reports the child's RSS growth without forcing a GC (what
// integration/bench reports), its heap and goroutine stacks in use after a
// GC (what the code holds), and goroutines. ns/op is meaningless.
func BenchmarkTunnelIdle(b *testing.B) {
	const idleConns = 2000
	be := startBackend(b, "tcp", "127.0.0.1:0", nil, smallEcho)
	c := startBenchChild(b, be.ln.Addr().String())
	time.Sleep(time.Second) // as the harness lets the proxy settle
	rss0, heap0, stack0, g0 := c.mem(b)
	conns := openIdleConns(b, c.addr, c.cli, idleConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	time.Sleep(time.Second)
	rss, heap, stack, g := c.mem(b)
	b.ReportMetric((rss-rss0)/idleConns, "rss-B/conn")
	b.ReportMetric((heap-heap0)/idleConns, "heap-B/conn")
	b.ReportMetric((stack-stack0)/idleConns, "stack-B/conn")
	b.ReportMetric((g-g0)/idleConns, "goroutines/conn")
}

// openIdleConns opens n connections with 16 dialers (as the harness does),
// each checked by one echo, and leaves them open with no goroutine reading.
func openIdleConns(b *testing.B, addr string, cli *tls.Config, n int) []net.Conn {
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	const dialers = 16
	errs := make(chan error, dialers)
	for w := range dialers {
		wg.Go(func() {
			msg, got := []byte("idle-hello"), make([]byte, 10)
			for i := w; i < n; i += dialers {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: waitLimit}, "tcp", addr, cli)
				if err == nil {
					c.SetDeadline(time.Now().Add(waitLimit))
					if _, err = c.Write(msg); err == nil {
						_, err = io.ReadFull(c, got)
					}
					c.SetDeadline(time.Time{})
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return conns
}

// smallEcho echoes with a small buffer: the backend holds thousands of
// connections here.
func smallEcho(c net.Conn) {
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
