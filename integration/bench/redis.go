package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// measureRedis is the real workload: redis-benchmark through a client
// tunnel -> server tunnel pair of each proxy to one redis-server, as a
// sidecar pair carries a cache's traffic. Its figures are GET's and SET's
// requests per second (the mean of the two) and the worse of their
// latency percentiles, without and with 16-command pipelining.
const measureRedis = "redis"

// redisRuns are the two redis-benchmark runs and the columns they fill.
var redisRuns = []struct {
	pipeline   int
	rps, p99   string
	p50, label string
}{
	{1, "redis", "redisP99", "redisP50", "redis-benchmark -c 50 -t set,get"},
	{16, "redis16", "redis16P99", "redis16P50", "the same with -P 16"},
}

// redisServer is the harness's redis-server, started once.
type redisServer struct {
	*child
	addr string
}

// startRedis runs redis-server on a free loopback port, without
// persistence.
func (h *harness) startRedis() (*redisServer, error) {
	bin, err := lookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not installed")
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(ports[0], ":")
	args := []string{"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", h.dir}
	c, err := startChild("redis-server", bin, args, filepath.Join(h.dir, "logs", "redis-server.log"), nil)
	if err != nil {
		return nil, err
	}
	if err := waitReady(c, ports, 20*time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return &redisServer{child: c, addr: ports[0]}, nil
}

// measureRedisPair runs both redis-benchmark runs through a fresh pair of
// kind.
func (h *harness) measureRedisPair(kind string, res *results) {
	h.logf("  %s redis", kind)
	p, err := h.startProxy(kind, 2, func(ports []string) string {
		return h.render(kind, []tunnel{
			{server: false, listen: ports[0], target: ports[1]},
			{server: true, listen: ports[1], target: h.redis.addr},
		}, variantDefault)
	})
	if err == nil {
		defer p.stop()
		err = h.redisFigures(kind, p.addrs[0], res)
	}
	if err != nil {
		res.note(kind, fmt.Sprintf("redis: %v", err))
	}
}

// redisFigures runs redis-benchmark against addr and adds its figures to
// kind's.
func (h *harness) redisFigures(kind, addr string, res *results) error {
	for _, r := range redisRuns {
		f, err := h.redisBenchmark(addr, r.pipeline)
		if err != nil {
			return err
		}
		res.add(kind, r.rps, f.rps, nil)
		res.add(kind, r.p50, f.p50, nil)
		res.add(kind, r.p99, f.p99, nil)
	}
	return nil
}

// redisResult is one redis-benchmark run: the mean requests per second of
// its tests and the worst of their latency percentiles, in milliseconds.
type redisResult struct{ rps, p50, p99 float64 }

func (h *harness) redisBenchmark(addr string, pipeline int) (redisResult, error) {
	host, port, _ := strings.Cut(addr, ":")
	args := []string{"-h", host, "-p", port, "-q", "-c", "50", "-n", strconv.Itoa(h.size.redisN),
		"-t", "set,get", "-P", strconv.Itoa(pipeline), "--csv"}
	out, err := exec.Command(h.redisBench, args...).Output()
	if err != nil {
		return redisResult{}, fmt.Errorf("redis-benchmark %s: %w", strings.Join(args, " "), err)
	}
	return parseRedisCSV(string(out))
}

// parseRedisCSV reads redis-benchmark --csv (redis 7: "test","rps",
// "avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
// "p99_latency_ms","max_latency_ms").
func parseRedisCSV(text string) (redisResult, error) {
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(rows) < 2 {
		return redisResult{}, fmt.Errorf("redis-benchmark output %q: %v", text, err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	var r redisResult
	for _, row := range rows[1:] {
		var v [3]float64
		for i, name := range []string{"rps", "p50_latency_ms", "p99_latency_ms"} {
			j, ok := col[name]
			if !ok || j >= len(row) {
				return redisResult{}, fmt.Errorf("redis-benchmark output lacks %s: %q", name, text)
			}
			if v[i], err = strconv.ParseFloat(row[j], 64); err != nil {
				return redisResult{}, fmt.Errorf("redis-benchmark %s %q: %w", name, row[j], err)
			}
		}
		r.rps += v[0] / float64(len(rows)-1)
		r.p50, r.p99 = max(r.p50, v[1]), max(r.p99, v[2])
	}
	return r, nil
}

// setUpRedis starts the redis-server every pair is measured against and
// adds the "no proxy" row; without redis-server or redis-benchmark the
// measurement is left out with a note.
func (h *harness) setUpRedis(res *results) error {
	var err error
	if h.redisBench, err = lookPath("redis-benchmark"); err != nil {
		res.note(kindPasstunnel, "redis: redis-benchmark not installed")
		return nil
	}
	if h.redis, err = h.startRedis(); err != nil {
		res.note(kindPasstunnel, fmt.Sprintf("redis: %v", err))
		return nil
	}
	res.addKind(kindNone)
	return nil
}

// redisFloor measures redis-server without any proxy, once per run: the
// figures every pair is compared with.
func (h *harness) redisFloor(res *results) {
	h.logf("  no proxy: redis")
	if err := h.redisFigures(kindNone, h.redis.addr, res); err != nil {
		res.note(kindNone, fmt.Sprintf("redis: %v", err))
	}
}
