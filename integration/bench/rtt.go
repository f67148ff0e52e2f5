package main

import (
	"fmt"
	"net"
	"slices"
	"time"
)

// rttRound times 64-byte echo round trips through every kind at once: one
// server per kind, one TLS connection to each, and the round trips taken
// in turn, kind after kind, rotating who goes first. Run one proxy after
// the other and a neighbour's burst on this shared machine lands on one of
// them only; in turn, every proxy sees the same noise, which is what lets
// the p99s be compared. On the first run it also checks each proxy
// enforces mTLS and TLS 1.3.
func (h *harness) rttRound(kinds []string, first bool, res *results) {
	conns := map[string]net.Conn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var live []string
	for _, k := range kinds {
		p, err := h.startServer(k, h.echo.Addr().String())
		if err != nil {
			res.note(k, fmt.Sprintf("echo round trips: %v", err))
			continue
		}
		defer p.stop()
		if first {
			if err := h.mustRefuse(p); err != nil {
				res.note(k, fmt.Sprintf("mTLS / TLS 1.3 enforcement: %v", err))
			}
		}
		c, err := dialTLS(p.addrs[0], h.clientTLS(true))
		if err != nil {
			res.note(k, fmt.Sprintf("echo round trips: %v", err))
			continue
		}
		conns[k] = c
		live = append(live, k)
	}
	lat, err := roundTrips(live, conns, h.size.rttWarm, h.size.rttN, 0)
	for _, k := range live {
		xs := lat[k]
		slices.Sort(xs)
		res.add(k, "p50", percentile(xs, 0.50), err[k])
		res.add(k, "p99", percentile(xs, 0.99), err[k])
	}
	h.logf("  echo round trips after %v idle", wakeGap)
	lat, err = roundTrips(live, conns, 0, h.size.wakeN, wakeGap)
	for _, k := range live {
		xs := lat[k]
		slices.Sort(xs)
		res.add(k, "wake", percentile(xs, 0.50), err[k])
	}
}

// wakeGap is the pause before each round of the round trips after idle:
// long enough for every proxy's threads to sleep, and for passtunnel's
// directions to give up their goroutines (pump.ParkAfter, 500 ms).
const wakeGap = time.Second

// roundTrips does warm+n rounds, each after a pause of gap; a round is one
// echo on each connection, the first kind of round i being
// kinds[i % len(kinds)]. A kind whose echo
// fails drops out with its error. Latencies are in microseconds, warm
// rounds not counted.
func roundTrips(kinds []string, conns map[string]net.Conn, warm, n int, gap time.Duration) (map[string][]float64, map[string]error) {
	lat, errs := map[string][]float64{}, map[string]error{}
	msg, buf := make([]byte, 64), make([]byte, 64)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	for i := range warm + n {
		time.Sleep(gap)
		for j := range kinds {
			k := kinds[(i+j)%len(kinds)]
			if errs[k] != nil {
				continue
			}
			t0 := time.Now()
			if err := echoOnce(conns[k], msg, buf); err != nil {
				errs[k] = err
				continue
			}
			if i >= warm {
				lat[k] = append(lat[k], float64(time.Since(t0).Nanoseconds())/1e3)
			}
		}
	}
	return lat, errs
}
