package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// echoServerFlag re-executes the harness as a bare echo backend, so the
// backend half of thousands of idle connections does not count against the
// harness's own file limit.
const echoServerFlag = "-echo-server"

// runEchoServer is the helper's main: it listens on args[0] (a free
// loopback port if none), prints its address, serves until its stdin
// closes (the harness is gone), then exits.
func runEchoServer(args []string) {
	addr := "127.0.0.1:0"
	if len(args) == 1 {
		addr = args[0]
	}
	ln, err := startEchoAt(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo server:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// startEchoHelper starts the echo helper process inside network namespace
// ns ("" for the harness's own) on addr ("" for a free loopback port), and
// returns it with its address.
func (h *harness) startEchoHelper(ns, addr string) (*child, string, error) {
	args := []string{echoServerFlag}
	if addr != "" {
		args = append(args, addr)
	}
	return h.startHelper(ns, "echo helper", "", args...)
}

// idleMemory opens counts[i] (cumulative, ascending) mTLS connections
// through a server proxy to the echo helper, one echo on each, and returns
// (RSS_N - RSS_0) / N in KiB for each count.
func (h *harness) idleMemory(kind string, counts []int) ([]float64, error) {
	helper, echoAddr, err := h.startEchoHelper("", "")
	if err != nil {
		return nil, err
	}
	defer helper.stop()
	p, err := h.startServer(kind, echoAddr)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	time.Sleep(h.size.settle)
	rss0, err := rssKB(p.pid())
	if err != nil {
		return nil, err
	}
	var out []float64
	for _, n := range counts {
		more, err := h.openIdle(p.addrs[0], n-len(conns), 16)
		conns = append(conns, more...)
		if err != nil {
			return out, fmt.Errorf("after %d connections: %w", len(conns), err)
		}
		time.Sleep(h.size.settle)
		rss, err := rssKB(p.pid())
		if err != nil {
			return out, err
		}
		if p.exited() {
			return out, fmt.Errorf("%s exited at %d connections", kind, n)
		}
		out = append(out, (rss-rss0)/float64(n))
		h.logf("%s idle %d: RSS %.0f -> %.0f KiB; fds: harness %d, %s %d (%d threads), echo helper %d; limit %d",
			kind, n, rss0, rss, fdCount(os.Getpid()), kind, fdCount(p.pid()), threadCount(p.pid()), fdCount(helper.pid()), h.nofile)
	}
	return out, nil
}

// openIdle opens n connections with conc dialers, each checked by one echo.
func (h *harness) openIdle(addr string, n, conc int) ([]net.Conn, error) {
	cfg := h.clientTLS(true)
	var (
		mu    sync.Mutex
		conns []net.Conn
		first error
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	for range conc {
		wg.Go(func() {
			msg, buf := []byte("idle-hello"), make([]byte, 16)
			for next.Add(1) <= int64(n) {
				c, err := dialTLS(addr, cfg)
				if err == nil {
					if err = echoOnce(c, msg, buf); err != nil {
						c.Close()
					}
				}
				mu.Lock()
				if err == nil {
					c.SetDeadline(time.Time{})
					conns = append(conns, c)
				} else {
					first = cmp(first, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return conns, first
}
