package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// probeFlag re-executes the harness as the load of the transparent
// measurement, inside the client host's namespace: a connection must
// start there for the host's rules to redirect it. The probe measures,
// prints its figures as JSON on stdout and exits.
const probeFlag = "-probe"

// probeBound bounds one probe process, start to exit.
const probeBound = 2 * time.Minute

// probeFigures is what a probe measured at one address.
type probeFigures struct {
	Addr string  `json:"addr"`
	P50  float64 `json:"p50_us,omitempty"`
	P99  float64 `json:"p99_us,omitempty"`
	MBps float64 `json:"echo_mbps,omitempty"`
}

// runProbe is the probe's main. -what says what it does at -addr (one or
// more addresses, comma-separated):
//
//	ready: one short echo through each, retried until it answers (60 s)
//	rtt:   -warm then -n 64-byte echoes, the addresses taking turns echo by echo
//	echo:  -bytes written to the first and read back, at once, on one connection
func runProbe(args []string) {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	what := fs.String("what", "", "ready, rtt or echo")
	addrList := fs.String("addr", "", "comma-separated `ADDR`esses")
	warm := fs.Int("warm", 0, "rtt: warm-up echoes, not counted")
	n := fs.Int("n", 0, "rtt: echoes counted")
	size := fs.Int64("bytes", 0, "echo: bytes to write and read back")
	fs.Parse(args)
	addrs := strings.Split(*addrList, ",")
	var out []probeFigures
	var err error
	switch *what {
	case "ready":
		err = probeReady(addrs, 60*time.Second)
	case "rtt":
		out, err = probeRTT(addrs, *warm, *n)
	case "echo":
		var mbps float64
		mbps, err = probeEcho(addrs[0], *size)
		out = []probeFigures{{Addr: addrs[0], MBps: mbps}}
	default:
		err = fmt.Errorf("-what %q: want ready, rtt or echo", *what)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// probeReady echoes a few bytes through each address until it answers:
// the tunnels behind it are up and the path works.
func probeReady(addrs []string, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	msg, buf := []byte("ready?"), make([]byte, 6)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				err = echoOnce(c, msg, buf)
				c.Close()
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: no echo after %v: %w", a, bound, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// probeRTT times round trips through every address on one connection
// each, in turn (see roundTrips): a noisy spell lands on all alike.
func probeRTT(addrs []string, warm, n int) ([]probeFigures, error) {
	conns := map[string]net.Conn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, ioBound)
		if err != nil {
			return nil, err
		}
		conns[a] = c
	}
	lat, errs := roundTrips(addrs, conns, warm, n, 0)
	var out []probeFigures
	for _, a := range addrs {
		if errs[a] != nil {
			return nil, fmt.Errorf("%s: %w", a, errs[a])
		}
		xs := lat[a]
		slices.Sort(xs)
		out = append(out, probeFigures{Addr: a, P50: percentile(xs, 0.50), P99: percentile(xs, 0.99)})
	}
	return out, nil
}

// probeEcho writes size bytes to addr while reading them back, and
// returns the MB (10^6 bytes) echoed per second, first write to last read.
func probeEcho(addr string, size int64) (float64, error) {
	c, err := net.DialTimeout("tcp", addr, ioBound)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	written := make(chan error, 1)
	go func() {
		buf := make([]byte, 256<<10)
		for left := size; left > 0; {
			n := min(left, int64(len(buf)))
			c.SetWriteDeadline(time.Now().Add(ioBound))
			if _, err := c.Write(buf[:n]); err != nil {
				written <- err
				return
			}
			left -= n
		}
		written <- nil
	}()
	buf := make([]byte, 256<<10)
	for got := int64(0); got < size; {
		c.SetReadDeadline(time.Now().Add(ioBound))
		n, err := c.Read(buf)
		got += int64(n)
		if err != nil && got < size {
			return 0, fmt.Errorf("read back %d of %d bytes: %w", got, size, err)
		}
	}
	if err := <-written; err != nil {
		return 0, fmt.Errorf("write: %w", err)
	}
	return float64(size) / 1e6 / time.Since(start).Seconds(), nil
}

// probeIn runs the probe inside namespace ns with args, bounded, and
// returns its figures. Its stderr goes to logs/probe.log.
func (h *harness) probeIn(ns string, args ...string) ([]probeFigures, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(h.dir, "logs", "probe.log")
	errOut, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer errOut.Close()
	var stdout bytes.Buffer
	cmd := nsCommand(ns, exe, append([]string{probeFlag}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, errOut
	c, err := launch("probe", cmd, logPath)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	what := strings.Join(args, " ")
	select {
	case <-c.done:
	case <-time.After(probeBound):
		return nil, fmt.Errorf("probe %s: not done after %v", what, probeBound)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		return nil, fmt.Errorf("probe %s: exit code %d: %s", what, code, c.logTail())
	}
	var figs []probeFigures
	if err := json.Unmarshal(stdout.Bytes(), &figs); err != nil {
		return nil, fmt.Errorf("probe %s: output %q: %w", what, stdout.String(), err)
	}
	return figs, nil
}
