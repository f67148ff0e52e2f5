package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	kindPasstunnel = "passtunnel"
	kindStunnel    = "stunnel"
	kindHAProxy    = "haproxy"
	// kindBaseline is another passtunnel binary (-baseline), measured with
	// the same configs, in the same runs, taking turns with the others:
	// the way to compare a change with the code before it on a noisy machine.
	kindBaseline = "baseline"
	// kindNone is the row of figures taken without any proxy: the floor.
	kindNone = "no proxy"
)

// family is the proxy whose configs and command line kind uses.
func family(kind string) string {
	if kind == kindBaseline {
		return kindPasstunnel
	}
	return kind
}

// Pair variants: the proxy's defaults, and resumption turned off.
const (
	variantDefault  = "default"
	variantNoResume = "no-resume"
)

// proxy is one running proxy process and the addresses it listens on, in
// the order its config asked for them.
type proxy struct {
	*child
	addrs []string
}

// startServer runs kind as a TLS-terminating server (mTLS required, TLS 1.3
// only) in front of target.
func (h *harness) startServer(kind, target string) (*proxy, error) {
	return h.startProxy(kind, 1, func(p []string) string {
		return h.render(kind, []tunnel{{server: true, listen: p[0], target: target}}, variantDefault)
	})
}

// startPair runs kind as a client tunnel (listening on addrs[0], dialing
// via) and a server tunnel (listening on addrs[1], dialing echo) in one
// process. setVia learns the server tunnel's address before the start.
func (h *harness) startPair(kind, variant, via, echo string, setVia func(string)) (*proxy, error) {
	return h.startProxy(kind, 2, func(p []string) string {
		setVia(p[1])
		return h.render(kind, []tunnel{
			{server: false, listen: p[0], target: via},
			{server: true, listen: p[1], target: echo},
		}, variant)
	})
}

// startProxy picks free ports, writes the config render makes of them and
// starts the proxy, retrying when another process took a port first.
func (h *harness) startProxy(kind string, nports int, render func([]string) string) (*proxy, error) {
	for attempt := 1; attempt <= 5; attempt++ {
		ports, err := freePorts(nports)
		if err != nil {
			return nil, err
		}
		h.seq++
		cfgPath := filepath.Join(h.dir, fmt.Sprintf("%03d-%s.conf", h.seq, kind))
		if err := os.WriteFile(cfgPath, []byte(render(ports)), 0o600); err != nil {
			return nil, err
		}
		var args, env []string
		switch family(kind) {
		case kindPasstunnel:
			args = []string{"run", "-config", cfgPath}
		case kindStunnel:
			args = []string{cfgPath}
		case kindHAProxy:
			args = []string{"-db", "-f", cfgPath} // foreground, one process: its pid is the worker
		case kindGoPlain:
			args = []string{goPlainFlag, cfgPath}
		}
		// Logs go to a directory of their own: passtunnel watches its
		// config's directory, and its own log lines would wake the watcher.
		logPath := filepath.Join(h.dir, "logs", strings.TrimSuffix(filepath.Base(cfgPath), ".conf")+".log")
		c, err := startChild(kind, h.bins[kind], args, logPath, env)
		if err != nil {
			return nil, err
		}
		err = waitReady(c, ports, 20*time.Second)
		if err == nil {
			return &proxy{child: c, addrs: ports}, nil
		}
		c.stop()
		if !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: no free port after 5 attempts", kind)
}

// tunnel is one side of a proxy config: TLS in (server) or TLS out.
type tunnel struct {
	server         bool
	listen, target string
}

func (h *harness) render(kind string, ts []tunnel, variant string) string {
	var b strings.Builder
	c := h.certs
	switch family(kind) {
	case kindGoPlain:
		h.renderGoPlain(&b, ts, variant)
	case kindPasstunnel:
		for i, t := range ts {
			mode, cert, key, side := "client", c.cliCert, c.cliKey, "    server_name = \"localhost\"\n"
			if t.server {
				mode, cert, key, side = "server", c.srvCert, c.srvKey, "    client_auth = \"require\"\n"
			}
			fmt.Fprintf(&b, "tunnel \"t%d\" {\n  mode = %q\n  listen = %q\n  target = %q\n", i, mode, t.listen, t.target)
			fmt.Fprintf(&b, "  tls {\n    cert = %q\n    key = %q\n    ca = %q\n%s    min_version = \"1.3\"\n", cert, key, c.ca, side)
			// The others' OpenSSL offers X25519 alone; passtunnel's default
			// prefers the costlier post-quantum hybrid (see docs/performance.md).
			b.WriteString("    curves = [\"X25519\"]\n")
			if variant == variantNoResume {
				b.WriteString("    session_resumption = false\n")
			}
			b.WriteString("  }\n  limits {\n    max_connections = 20000\n  }\n}\n\n")
		}
	case kindStunnel:
		// Debian's stunnel4 runs a thread per connection; it derives its
		// client limit from RLIMIT_NOFILE (20,000 -> about 9,700).
		b.WriteString("foreground = yes\npid =\nsyslog = no\n\n")
		for i, t := range ts {
			fmt.Fprintf(&b, "[t%d]\naccept = %s\nconnect = %s\nCAfile = %s\nverifyChain = yes\nsslVersionMin = TLSv1.3\n",
				i, t.listen, t.target, c.ca)
			if t.server {
				fmt.Fprintf(&b, "cert = %s\nkey = %s\n", c.srvCert, c.srvKey)
			} else {
				fmt.Fprintf(&b, "client = yes\ncert = %s\nkey = %s\ncheckHost = localhost\nsni = localhost\n", c.cliCert, c.cliKey)
			}
			if variant == variantNoResume {
				b.WriteString("sessionResume = no\noptions = NO_TICKET\n")
			}
			b.WriteString("\n")
		}
	case kindHAProxy:
		b.WriteString("global\n  maxconn 9000\n\ndefaults\n  mode tcp\n  maxconn 9000\n" +
			"  timeout connect 10s\n  timeout client 1h\n  timeout server 1h\n\n")
		for i, t := range ts {
			if t.server {
				fmt.Fprintf(&b, "frontend f%d\n  bind %s ssl crt %s ca-file %s verify required ssl-min-ver TLSv1.3\n  default_backend b%d\n",
					i, t.listen, c.srvPEM, c.ca, i)
				fmt.Fprintf(&b, "backend b%d\n  server s %s\n\n", i, t.target)
				continue
			}
			reuse := ""
			if variant == variantNoResume {
				reuse = " no-ssl-reuse"
			}
			fmt.Fprintf(&b, "frontend f%d\n  bind %s\n  default_backend b%d\n", i, t.listen, i)
			fmt.Fprintf(&b, "backend b%d\n  server s %s ssl crt %s ca-file %s verify required sni str(localhost) verifyhost localhost ssl-min-ver TLSv1.3%s\n\n",
				i, t.target, c.cliPEM, c.ca, reuse)
		}
	}
	return b.String()
}
