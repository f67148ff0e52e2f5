package integration

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkCertFlood is the CPU a passphrase server tunnel (the built
// binary) spends per handshake on a node of its cluster, and on an
// anonymous client that sends a flood of certificates for one key, each
// naming the cluster CA as its issuer (by name and key id) as a real node
// certificate does. Each round makes 200 handshakes of either kind; the
// figures are medians of the rounds, and flood/node their ratio:
//
//	go test -run '^$' -bench CertFlood -benchtime 5x ./integration
func BenchmarkCertFlood(b *testing.B) {
	_, pf := passFile(b)
	be := startEcho(b)
	srv := startPassRun(b, nil, ptun{name: "s", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pf,
		extra: "  limits { per_source_handshakes = 0 }\n"})
	addr := srv.listenAddr(b, "s")
	node := pkiIssue(b, pf, "bench-node")
	flood := floodCertificate(b, node.ca, 700)
	nodeCfg := &tls.Config{Certificates: []tls.Certificate{node.pair(b)}, InsecureSkipVerify: true}
	floodCfg := &tls.Config{Certificates: []tls.Certificate{flood}, InsecureSkipVerify: true}
	const perRound = 200
	var nodeMs, floodMs []float64
	for b.Loop() {
		nodeMs = append(nodeMs, cpuPerHandshake(b, srv, addr, nodeCfg, perRound))
		floodMs = append(floodMs, cpuPerHandshake(b, srv, addr, floodCfg, perRound))
	}
	n, f := median(nodeMs), median(floodMs)
	b.ReportMetric(n, "node-ms/hs")
	b.ReportMetric(f, "flood-ms/hs")
	b.ReportMetric(f/n, "flood/node")
}

// cpuPerHandshake makes n handshakes with cfg, one at a time, and returns
// the tunnel process's CPU milliseconds per handshake.
func cpuPerHandshake(b *testing.B, srv *proc, addr string, cfg *tls.Config, n int) float64 {
	b.Helper()
	before := procCPU(b, srv.cmd.Process.Pid)
	for range n {
		raw, err := net.DialTimeout("tcp", addr, ioTimeout)
		if err != nil {
			b.Fatal(err)
		}
		_ = raw.SetDeadline(time.Now().Add(ioTimeout))
		c := tls.Client(raw, cfg)
		if err := c.Handshake(); err == nil {
			_, _ = io.WriteString(c, "x\n")
			_, _ = c.Read(make([]byte, 2)) // the echo, or the server's refusal
		}
		c.Close()
	}
	return (procCPU(b, srv.cmd.Process.Pid) - before) * 1000 / float64(n)
}

// floodCertificate is a client certificate whose chain holds n
// certificates for one fresh key, each issued in the name (and key id) of
// the CA in caFile but signed by another key: nothing a CA signed.
func floodCertificate(b *testing.B, caFile string, n int) tls.Certificate {
	b.Helper()
	block, _ := pem.Decode(mustRead(b, caFile))
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_, forger, _ := ed25519.GenerateKey(rand.Reader)
	parent := &x509.Certificate{Subject: ca.Subject, SubjectKeyId: ca.SubjectKeyId}
	out := tls.Certificate{PrivateKey: key}
	for i := range n {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: ca.Subject,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, forger)
		if err != nil {
			b.Fatal(err)
		}
		out.Certificate = append(out.Certificate, der)
	}
	return out
}

// procCPU is the user and system CPU seconds of process pid so far.
func procCPU(b *testing.B, pid int) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("process CPU needs /proc: %v", err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th of them, in clock ticks (100 a second).
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	var ticks float64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			b.Fatal(err)
		}
		ticks += v
	}
	return ticks / 100
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
