package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// cmdDemo runs a whole encrypted loop in one process: an echo backend, a
// server tunnel in front of it and a client tunnel in front of that, with a
// CA and certificates made in memory (written to a temporary directory only
// so that openssl can be pointed at them by hand).
func cmdDemo(stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "passtunnel-demo-")
	if err != nil {
		return fmt.Errorf("demo: temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	files, err := demoCertificates(dir)
	if err != nil {
		return err
	}
	echo, err := startEcho()
	if err != nil {
		return err
	}
	defer echo.Close()
	cfg := demoConfig(files, echo.Addr().String())
	f, err := newFleet(newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	// Two stages: the client tunnel dials the server tunnel, whose port is
	// only known once it listens.
	server, client := *cfg, *cfg
	server.Tunnels, client.Tunnels = cfg.Tunnels[:1], cfg.Tunnels[1:]
	if err := f.start(&server); err != nil {
		return err
	}
	serverAddr := f.tunnels[0].tunnel.Addr().String()
	client.Tunnels[0].Target.Addr = serverAddr
	if err := f.start(&client); err != nil {
		closeAll(f.tunnels)
		return err
	}
	clientAddr := f.tunnels[1].tunnel.Addr().String()
	if err := demoProbe(stdout, files, clientAddr, serverAddr, echo.Addr().String()); err != nil {
		closeAll(f.tunnels)
		return err
	}
	return f.wait()
}

type demoFiles struct{ dir, ca, serverCert, serverKey, clientCert, clientKey string }

func demoCertificates(dir string) (demoFiles, error) {
	f := demoFiles{dir: dir, ca: filepath.Join(dir, "ca.pem")}
	ca, err := pki.NewAuthority("passtunnel demo CA")
	if err != nil {
		return f, fmt.Errorf("demo: CA: %w", err)
	}
	if err := os.WriteFile(f.ca, ca.CertPEM(), 0o644); err != nil {
		return f, fmt.Errorf("demo: %w", err)
	}
	server, err := ca.Issue(pki.LeafSpec{CommonName: "demo-server", DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, Server: true})
	if err != nil {
		return f, fmt.Errorf("demo: server certificate: %w", err)
	}
	client, err := ca.Issue(pki.LeafSpec{CommonName: "demo-client", Client: true})
	if err != nil {
		return f, fmt.Errorf("demo: client certificate: %w", err)
	}
	if f.serverCert, f.serverKey, err = pki.WriteKeyPair(dir, "server", server); err != nil {
		return f, fmt.Errorf("demo: %w", err)
	}
	if f.clientCert, f.clientKey, err = pki.WriteKeyPair(dir, "client", client); err != nil {
		return f, fmt.Errorf("demo: %w", err)
	}
	return f, nil
}

// demoConfig is what an operator would write in HCL for the same loop.
func demoConfig(f demoFiles, echoAddr string) *config.Config {
	tlsBase := config.TLS{MinVersion: "1.2", MaxVersion: "1.3", CA: f.ca}
	server := tlsBase
	server.Cert, server.Key, server.ClientAuth = f.serverCert, f.serverKey, "require"
	client := tlsBase
	client.Cert, client.Key, client.ServerName = f.clientCert, f.clientKey, "localhost"
	return &config.Config{
		LogLevel:  "info",
		LogFormat: "text",
		Tunnels: []config.Tunnel{{
			Name: "demo-server", Mode: config.ModeServer,
			Listen: config.Address{Network: config.NetTCP, Addr: "127.0.0.1:0"},
			Target: config.Address{Network: config.NetTCP, Addr: echoAddr},
			TLS:    &server, Limits: config.DefaultLimits(),
		}, {
			Name: "demo-client", Mode: config.ModeClient,
			Listen: config.Address{Network: config.NetTCP, Addr: "127.0.0.1:0"},
			Target: config.Address{Network: config.NetTCP}, // set once the server tunnel listens
			TLS:    &client, Limits: config.DefaultLimits(),
		}},
	}
}

func demoProbe(w io.Writer, f demoFiles, clientAddr, serverAddr, echoAddr string) error {
	const line = "hello through passtunnel"
	conn, err := net.DialTimeout("tcp", clientAddr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("demo: dial client tunnel: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		return fmt.Errorf("demo: write: %w", err)
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("demo: read the echo: %w", err)
	}
	if got = strings.TrimSuffix(got, "\n"); got != line {
		return fmt.Errorf("demo: echo mismatch: sent %q, got %q", line, got)
	}
	fmt.Fprintf(w, `passtunnel demo: an encrypted, mutually authenticated loop on this machine

  you --cleartext--> client tunnel %s --mTLS--> server tunnel %s --cleartext--> echo %s

  sent     %q
  received %q

Try it by hand:
  nc %s
      type a line: it crosses both tunnels and the echo comes back
  openssl s_client -connect %s -quiet -CAfile %s -cert %s -key %s
      talk TLS straight to the server tunnel with the demo client certificate
  openssl s_client -connect %s -quiet -CAfile %s
      no client certificate: the server tunnel refuses it, and its log says why

Certificates (deleted on exit): %s
Press Ctrl-C to stop.
`, clientAddr, serverAddr, echoAddr, line, got,
		strings.Replace(clientAddr, ":", " ", 1),
		serverAddr, f.ca, f.clientCert, f.clientKey, serverAddr, f.ca, f.dir)
	return nil
}

// startEcho is the demo's backend: it writes back every byte it reads.
func startEcho() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: echo backend: %w", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln, nil
}
