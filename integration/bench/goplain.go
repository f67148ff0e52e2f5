package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// kindGoPlain is the control among the proxies: the TLS proxy anyone would
// write in Go in an afternoon. One goroutine per direction, io.Copy over
// crypto/tls, no buffer pools, no tuning, no limits. What passtunnel does
// beyond it has to pay for itself against this.
const kindGoPlain = "go-plain"

// goPlainFlag re-executes the harness as that proxy, with a config file of
// lines "server|client LISTEN TARGET CERT KEY CA [noresume]".
const goPlainFlag = "-go-plain"

// renderGoPlain writes the go-plain config of ts.
func (h *harness) renderGoPlain(b *strings.Builder, ts []tunnel, variant string) {
	c := h.certs
	for _, t := range ts {
		side, cert, key := "client", c.cliCert, c.cliKey
		if t.server {
			side, cert, key = "server", c.srvCert, c.srvKey
		}
		fmt.Fprintf(b, "%s %s %s %s %s %s", side, t.listen, t.target, cert, key, c.ca)
		if variant == variantNoResume {
			b.WriteString(" noresume")
		}
		b.WriteString("\n")
	}
}

// runGoPlain is the go-plain proxy's main: it serves every line of the
// config file named by args[0] until it is killed.
func runGoPlain(args []string) {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "go-plain: want one config file")
		os.Exit(2)
	}
	f, err := os.Open(args[0])
	if err != nil {
		fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 0 {
			if err := goPlainTunnel(fields); err != nil {
				fatal(fmt.Errorf("go-plain: %q: %w", sc.Text(), err))
			}
		}
	}
	f.Close()
	select {}
}

// goPlainTunnel starts one tunnel of fields (a config line).
func goPlainTunnel(fields []string) error {
	if len(fields) < 6 {
		return errors.New("want server|client LISTEN TARGET CERT KEY CA [noresume]")
	}
	side, listen, target := fields[0], fields[1], fields[2]
	cert, err := tls.LoadX509KeyPair(fields[3], fields[4])
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(fields[5])
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	// The same TLS as the others are given: TLS 1.3, X25519, mTLS.
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13,
		CurvePreferences: []tls.CurveID{tls.X25519}}
	resume := len(fields) < 7 || fields[6] != "noresume"
	var ln net.Listener
	var dial func() (net.Conn, error)
	switch side {
	case "server":
		conf.ClientAuth, conf.ClientCAs, conf.SessionTicketsDisabled = tls.RequireAndVerifyClientCert, pool, !resume
		ln, err = tls.Listen("tcp", listen, conf)
		dial = func() (net.Conn, error) { return net.Dial("tcp", target) }
	case "client":
		conf.RootCAs, conf.ServerName = pool, "localhost"
		if resume {
			conf.ClientSessionCache = tls.NewLRUClientSessionCache(0)
		}
		ln, err = net.Listen("tcp", listen)
		dial = func() (net.Conn, error) { return tls.Dial("tcp", target, conf) }
	default:
		return fmt.Errorf("side %q", side)
	}
	if err != nil {
		return err
	}
	go goPlainServe(ln, dial)
	return nil
}

func goPlainServe(ln net.Listener, dial func() (net.Conn, error)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-plain: accept:", err)
			continue
		}
		go func() {
			t, err := dial()
			if err != nil {
				c.Close()
				return
			}
			done := make(chan struct{})
			go func() { goPlainCopy(t, c); close(done) }()
			goPlainCopy(c, t)
			<-done
			c.Close()
			t.Close()
		}()
	}
}

// goPlainCopy copies src to dst and passes the end on as a half-close.
func goPlainCopy(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
