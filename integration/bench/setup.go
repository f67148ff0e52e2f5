package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// sizes are the amounts of work of one run.
type sizes struct {
	single         int64 // bytes, one stream
	multi          int   // streams
	multiEach      int64 // bytes per stream
	hsCount, hsCon int
	rttWarm, rttN  int
	idle           []int // cumulative connection counts
	pairN, pairCon int
	settle         time.Duration // before reading RSS
	echo           int64         // bytes echoed through a client tunnel (-measure transparent)
	redisN         int           // requests per redis-benchmark test
	wakeN          int           // echoes after an idle pause, per connection
}

var (
	fullSizes  = sizes{256 << 20, 8, 64 << 20, 2000, 4, 500, 5000, []int{2000, 8000}, 2000, 4, 3 * time.Second, 1 << 30, 200000, 20}
	quickSizes = sizes{64 << 20, 8, 16 << 20, 500, 4, 200, 2000, []int{2000, 8000}, 500, 4, 1 * time.Second, 256 << 20, 50000, 10}
)

type certFiles struct {
	ca, srvCert, srvKey, srvPEM, cliCert, cliKey, cliPEM string
	pool                                                 *x509.CertPool
	client                                               tls.Certificate
}

type harness struct {
	dir     string
	bins    map[string]string
	certs   certFiles
	size    sizes
	sink    *sink
	echo    net.Listener
	nofile  uint64
	seq     int
	verbose bool
	measure map[string]bool // -measure
	// baseline is the -baseline passtunnel binary, "" for none.
	baseline string
	netns    namespaces // made for -measure transparent
	// redis is the redis-server of -measure redis, redisBench the
	// redis-benchmark that loads it.
	redis      *redisServer
	redisBench string
}

func (h *harness) logf(format string, args ...any) {
	if h.verbose {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}
}

// findBins locates each wanted proxy, building passtunnel from this module.
func (h *harness) findBins(kinds []string) (missing map[string]string, err error) {
	missing = map[string]string{}
	for _, k := range kinds {
		switch k {
		case kindPasstunnel:
			root, err := moduleRoot()
			if err != nil {
				return nil, err
			}
			bin := filepath.Join(root, "tmp", "passtunnel")
			cmd := exec.Command("go", "build", "-o", bin, "github.com/passtunnel/passtunnel")
			cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("go build passtunnel: %w", err)
			}
			h.bins[k] = bin
		case kindStunnel:
			if p, err := lookPath("stunnel4", "stunnel"); err == nil {
				h.bins[k] = p
			} else {
				missing[k] = "stunnel4 / stunnel not installed"
			}
		case kindBaseline:
			if h.baseline == "" {
				return nil, fmt.Errorf("proxy %q needs -baseline BIN", k)
			}
			h.bins[k] = h.baseline
		case kindHAProxy:
			if p, err := lookPath("haproxy"); err == nil {
				h.bins[k] = p
			} else {
				missing[k] = "haproxy not installed"
			}
		case kindGoPlain:
			if h.bins[k], err = os.Executable(); err != nil {
				return nil, fmt.Errorf("go-plain is this program: %w", err)
			}
		default:
			return nil, fmt.Errorf("unknown proxy %q (want passtunnel, stunnel, haproxy, go-plain)", k)
		}
	}
	return missing, nil
}

// versions names what was measured, for the line above the table.
func (h *harness) versions(kinds []string, missing map[string]string) []string {
	out := []string{fmt.Sprintf("%d CPUs", runtime.NumCPU())}
	for _, k := range kinds {
		if missing[k] != "" {
			continue
		}
		var args []string
		switch family(k) {
		case kindGoPlain:
			out = append(out, k+" "+runtime.Version())
			continue
		case kindPasstunnel:
			args = []string{"version"}
		case kindStunnel:
			args = []string{"-version"}
		case kindHAProxy:
			args = []string{"-v"}
		}
		b, _ := exec.Command(h.bins[k], args...).CombinedOutput()
		v := k
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) < 2 || !strings.EqualFold(f[0], k) {
				continue
			}
			v = k + " " + f[1] // "passtunnel dev", "stunnel 5.68 on ..."
			if len(f) > 2 && f[1] == "version" {
				v = k + " " + f[2] // "HAProxy version 2.6.12-1 ..."
			}
			break
		}
		out = append(out, v)
	}
	return out
}

func lookPath(names ...string) (string, error) {
	var err error
	for _, n := range names {
		var p string
		if p, err = exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", err
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the passtunnel module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

// makeCerts writes an ECDSA P-256 CA, a server certificate for localhost
// and 127.0.0.1 and a client certificate, as separate files and as the
// combined cert+key files haproxy wants.
func (h *harness) makeCerts() error {
	ca, err := pkitest.NewAuthority("passtunnel bench CA")
	if err != nil {
		return err
	}
	srv, err := ca.Issue(pkitest.LeafSpec{CommonName: "localhost", DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
	if err != nil {
		return err
	}
	cli, err := ca.Issue(pkitest.LeafSpec{CommonName: "bench-client", Client: true})
	if err != nil {
		return err
	}
	c := &h.certs
	c.ca = filepath.Join(h.dir, "ca.crt")
	if err := os.WriteFile(c.ca, ca.CertPEM(), 0o644); err != nil {
		return err
	}
	if c.srvCert, c.srvKey, err = pki.WriteKeyPair(h.dir, "server", srv); err != nil {
		return err
	}
	if c.cliCert, c.cliKey, err = pki.WriteKeyPair(h.dir, "client", cli); err != nil {
		return err
	}
	if c.srvPEM, err = combine(c.srvCert, c.srvKey); err != nil {
		return err
	}
	if c.cliPEM, err = combine(c.cliCert, c.cliKey); err != nil {
		return err
	}
	c.pool = x509.NewCertPool()
	c.pool.AddCert(ca.Cert)
	c.client = cli
	return nil
}

func combine(cert, key string) (string, error) {
	a, err := os.ReadFile(cert)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(key)
	if err != nil {
		return "", err
	}
	out := strings.TrimSuffix(cert, ".crt") + ".pem"
	return out, os.WriteFile(out, append(a, b...), 0o600)
}
