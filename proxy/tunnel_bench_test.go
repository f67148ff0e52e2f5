package proxy

import (
	"crypto/tls"
	"encoding/binary"

	"github.com/passtunnel/passtunnel/proxy/internal/pump"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

// These benchmarks drive a server tunnel in a child process (see
// startBenchChild) over loopback, the way integration/bench drives the
// binary: TLS 1.3, mutual authentication with ECDSA P-256 certificates,
// X25519. ns/op is wall time including the client and backend here; the
// tunnel-cpu metrics are the child's CPU time alone, which is what the
// harness's "CPU s/GB" and "CPU ms/handshake" figures measure (at the
// kernel's 10 ms tick: run with -benchtime 3s or more for those).

// BenchmarkTunnelBulk moves 64 KiB chunks through tunneled connections:
// up is TLS client -> tunnel -> cleartext sink (the harness's throughput
// test), up8 the same on 8 connections at once, down is cleartext source ->
// tunnel -> TLS client.
func BenchmarkTunnelBulk(b *testing.B) {
	const chunk = 64 << 10
	b.Run("up", func(b *testing.B) {
		counted := make(chan int64, 1)
		be := startBackend(b, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
			n, _ := io.Copy(io.Discard, c)
			counted <- n
		})
		child := startBenchChild(b, be.ln.Addr().String())
		c := dialTLS(b, tcpAddrOf(child.addr), child.cli)
		buf := make([]byte, chunk)
		b.SetBytes(chunk)
		cpu0 := child.cpu(b)
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		pump.CloseWrite(c)
		if n := <-counted; n != int64(b.N)*chunk {
			b.Fatalf("sink got %d bytes, want %d", n, int64(b.N)*chunk)
		}
		b.StopTimer()
		b.ReportMetric((child.cpu(b)-cpu0)/(float64(b.N)*chunk/1e9), "tunnel-cpu-s/GB")
	})
	b.Run("up8", func(b *testing.B) { // 8 connections at once, as the harness's 8-stream test
		const streams = 8
		counted := make(chan int64, streams)
		be := startBackend(b, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
			n, _ := io.Copy(io.Discard, c)
			counted <- n
		})
		child := startBenchChild(b, be.ln.Addr().String())
		var conns []*tls.Conn
		for range streams {
			conns = append(conns, dialTLS(b, tcpAddrOf(child.addr), child.cli))
		}
		b.SetBytes(chunk)
		cpu0 := child.cpu(b)
		b.ResetTimer()
		errs := make(chan error, streams)
		for i, c := range conns {
			go func() {
				buf := make([]byte, chunk)
				for j := i; j < b.N; j += streams {
					if _, err := c.Write(buf); err != nil {
						errs <- err
						return
					}
				}
				errs <- pump.CloseWrite(c)
			}()
		}
		var total int64
		for range streams {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			total += <-counted
		}
		if total != int64(b.N)*chunk {
			b.Fatalf("sink got %d bytes, want %d", total, int64(b.N)*chunk)
		}
		b.StopTimer()
		b.ReportMetric((child.cpu(b)-cpu0)/(float64(b.N)*chunk/1e9), "tunnel-cpu-s/GB")
	})
	b.Run("down", func(b *testing.B) {
		be := startBackend(b, "tcp", "127.0.0.1:0", nil, func(c net.Conn) {
			var want [8]byte
			if _, err := io.ReadFull(c, want[:]); err != nil {
				return
			}
			buf := make([]byte, chunk)
			for left := binary.BigEndian.Uint64(want[:]); left > 0; left -= chunk {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		})
		child := startBenchChild(b, be.ln.Addr().String())
		c := dialTLS(b, tcpAddrOf(child.addr), child.cli)
		b.SetBytes(chunk)
		cpu0 := child.cpu(b)
		b.ResetTimer()
		var want [8]byte
		binary.BigEndian.PutUint64(want[:], uint64(b.N)*chunk)
		if _, err := c.Write(want[:]); err != nil {
			b.Fatal(err)
		}
		if n, err := io.CopyN(io.Discard, c, int64(b.N)*chunk); err != nil {
			b.Fatalf("got %d bytes: %v", n, err)
		}
		b.StopTimer()
		b.ReportMetric((child.cpu(b)-cpu0)/(float64(b.N)*chunk/1e9), "tunnel-cpu-s/GB")
	})
}

// BenchmarkTunnelHandshake opens one connection per op: handshake, a
// one-byte echo through to the backend, close. "full" offers no session,
// "resumed" the session of the previous connection, and "full-mlkem" Go's
// default groups (X25519MLKEM768 first) instead of X25519 alone.
func BenchmarkTunnelHandshake(b *testing.B) {
	for _, mode := range []string{"full", "resumed", "full-mlkem"} {
		b.Run(mode, func(b *testing.B) {
			be := startBackend(b, "tcp", "127.0.0.1:0", nil, smallEcho)
			child := startBenchChild(b, be.ln.Addr().String())
			cli := child.cli
			switch mode {
			case "resumed":
				cli.ClientSessionCache = tls.NewLRUClientSessionCache(1)
				handshakeEcho(b, child.addr, cli) // prime the cache
			case "full-mlkem":
				cli.CurvePreferences = nil
			}
			resumed := 0
			cpu0 := child.cpu(b)
			b.ResetTimer()
			for range b.N {
				if handshakeEcho(b, child.addr, cli) {
					resumed++
				}
			}
			b.StopTimer()
			b.ReportMetric((child.cpu(b)-cpu0)*1e6/float64(b.N), "tunnel-cpu-µs/op")
			if want := mode == "resumed"; (resumed == b.N) != want {
				b.Fatalf("%s: %d of %d handshakes resumed", mode, resumed, b.N)
			}
		})
	}
}

// handshakeEcho is one op of BenchmarkTunnelHandshake; it reports whether
// the session was resumed.
func handshakeEcho(b *testing.B, addr string, cli *tls.Config) bool {
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(waitLimit))
	c := tls.Client(raw, cli)
	var one [1]byte
	if _, err := c.Write([]byte{'x'}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, one[:]); err != nil {
		b.Fatal(err)
	}
	return c.ConnectionState().DidResume
}

// BenchmarkTunnelRTT times 64-byte echoes on one connection, as the
// harness does, and reports the median and 99th percentile besides the
// mean (ns/op), and the tunnel's CPU per echo: the runtime's own work
// between messages (waking threads) shows there first.
func BenchmarkTunnelRTT(b *testing.B) {
	be := startBackend(b, "tcp", "127.0.0.1:0", nil, smallEcho)
	child := startBenchChild(b, be.ln.Addr().String())
	c := dialTLS(b, tcpAddrOf(child.addr), child.cli)
	msg, got := make([]byte, 64), make([]byte, 64)
	for range 200 { // warm up: buffers, stacks, the session ticket read
		roundTripBench(b, c, msg, got)
	}
	lat := make([]float64, 0, b.N)
	cpu0 := child.cpu(b)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		roundTripBench(b, c, msg, got)
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
	}
	b.StopTimer()
	b.ReportMetric((child.cpu(b)-cpu0)*1e6/float64(b.N), "tunnel-cpu-µs/op")
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-µs")
	b.ReportMetric(lat[max(0, (len(lat)*99+99)/100-1)], "p99-µs")
}

func roundTripBench(b *testing.B, c net.Conn, msg, got []byte) {
	c.SetDeadline(time.Now().Add(waitLimit)) // a lost byte fails the run instead of hanging it
	if _, err := c.Write(msg); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, got); err != nil {
		b.Fatal(err)
	}
}

func tcpAddrOf(s string) net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", s)
	return a
}

// BenchmarkTunnelWake times the first 64-byte echo after both directions
// went idle long enough to give up their goroutines (see pump.ParkAfter): what
// resuming from the idle set adds to a round trip (compare its p50 with
// BenchmarkTunnelRTT's). The waits count in ns/op, which keeps b.N at 1 or
// 2 by default: each op is 5 samples; -benchtime 10x gives 50.
func BenchmarkTunnelWake(b *testing.B) {
	const samples = 5
	be := startBackend(b, "tcp", "127.0.0.1:0", nil, smallEcho)
	child := startBenchChild(b, be.ln.Addr().String())
	c := dialTLS(b, tcpAddrOf(child.addr), child.cli)
	msg, got := make([]byte, 64), make([]byte, 64)
	roundTripBench(b, c, msg, got)
	lat := make([]float64, 0, b.N*samples)
	b.ResetTimer()
	for range b.N * samples {
		time.Sleep(pump.ParkAfter + pump.ParkAfter/2)
		t0 := time.Now()
		roundTripBench(b, c, msg, got)
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-µs")
}
