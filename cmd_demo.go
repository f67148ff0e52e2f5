package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/daemon"
	"github.com/passtunnel/passtunnel/pki"
)

// demoCluster names the demo's cluster: the salt of its derivation.
const demoCluster = "demo"

const demoUsage = `usage: passtunnel demo

Runs an echo server behind a server tunnel and a client tunnel on localhost,
joined by a random passphrase, sends a line through them and keeps them
running until Ctrl-C. Nothing to prepare, nothing kept.
`

// cmdDemo runs a whole encrypted loop in one process: an echo backend, a
// server tunnel in front of it and a client tunnel in front of that, joined
// by a random passphrase, with no certificate to make. A node certificate is
// written to a temporary directory only so that openssl can be pointed at
// the server tunnel by hand.
func cmdDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "")
	fs.Usage = func() { fmt.Fprint(fs.Output(), demoUsage) }
	if err := parseFlags(fs, args, 0, stdout, stderr); err != nil {
		return err
	}
	passphrase, err := randomPassphrase()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "passtunnel-demo-")
	if err != nil {
		return fmt.Errorf("demo: temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	echo, err := startEcho()
	if err != nil {
		return err
	}
	defer echo.Close()
	cfg := demoConfig(passphrase, echo.Addr().String())
	log, level := daemon.NewLogger(cfg, stderr)
	f, err := daemon.NewFleet(log, level, "") // nothing to keep: no self-signed tunnel
	if err != nil {
		return err
	}
	// Two stages: the client tunnel dials the server tunnel, whose port is
	// only known once it listens.
	server, client := *cfg, *cfg
	server.Tunnels, client.Tunnels = cfg.Tunnels[:1], cfg.Tunnels[1:]
	if err := f.Start(&server); err != nil {
		return err
	}
	serverAddr := f.Addr(server.Tunnels[0].Name).String()
	client.Tunnels[0].Target.Addr = serverAddr
	if err := f.Start(&client); err != nil {
		f.Close()
		return err
	}
	clientAddr := f.Addr(client.Tunnels[0].Name).String()
	ca, err := f.ClusterCA(passphrase.Reveal(), demoCluster) // derived already: cached
	if err != nil {
		f.Close()
		return err
	}
	probe := demoProbe{clientAddr: clientAddr, serverAddr: serverAddr, echoAddr: echo.Addr().String(), ca: ca, dir: dir}
	if err := probe.run(stdout); err != nil {
		f.Close()
		return err
	}
	f.Wait()
	return nil
}

// randomPassphrase is a new passphrase as `pki passphrase` makes them: far
// above the passphrase policy, and never printed.
func randomPassphrase() (config.Secret, error) {
	p, err := pki.NewPassphrase()
	if err != nil {
		return config.Secret{}, fmt.Errorf("demo: random passphrase: %w", err)
	}
	return config.NewSecret(p, "random (demo)"), nil
}

// demoConfig is what an operator would write in HCL for the same loop.
func demoConfig(passphrase config.Secret, echoAddr string) *config.Config {
	tunnel := func(name string, mode config.Mode, target string) config.Tunnel {
		return config.Tunnel{
			Name: name, Mode: mode, Passphrase: passphrase, Cluster: demoCluster,
			Listen: config.Address{Network: config.NetTCP, Addr: "127.0.0.1:0"},
			Target: config.Address{Network: config.NetTCP, Addr: target},
			Limits: config.DefaultLimits(),
		}
	}
	return &config.Config{
		LogLevel:  "info",
		LogFormat: "text",
		Tunnels: []config.Tunnel{
			tunnel("demo-server", config.ModeServer, echoAddr),
			tunnel("demo-client", config.ModeClient, ""), // set once the server tunnel listens
		},
	}
}

type demoProbe struct {
	clientAddr, serverAddr, echoAddr string
	ca                               *pki.ClusterCA
	dir                              string
}

// run sends a line through both tunnels, then prints what happened and how
// to try it by hand.
func (p demoProbe) run(w io.Writer) error {
	const line = "hello through passtunnel"
	got, err := echoLine(p.clientAddr, line)
	if err != nil {
		return err
	}
	node, err := p.ca.IssueNode("openssl-demo", time.Hour)
	if err != nil {
		return fmt.Errorf("demo: certificate for openssl: %w", err)
	}
	cert, key, err := pki.WriteKeyPair(p.dir, "openssl-demo", node)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	caFile := p.dir + "/ca.crt"
	if err := os.WriteFile(caFile, p.ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, `passtunnel demo: an encrypted, mutually authenticated loop on this machine

  you --cleartext--> client tunnel %s --mTLS--> server tunnel %s --cleartext--> echo %s

Both tunnels hold the same random passphrase and derived the same cluster CA
from it; nobody made or copied a certificate:
  cluster %q CA %s

  sent     %q
  received %q

Try it by hand:
  nc %s
      type a line: it crosses both tunnels and the echo comes back
  openssl s_client -connect %s -quiet -CAfile %s -cert %s -key %s
      talk TLS straight to the server tunnel as a node of the cluster
      (what "passtunnel pki issue" makes for programs that speak TLS themselves)
  openssl s_client -connect %s -quiet
      no certificate of the cluster: the server tunnel refuses it, and its log says why

Files for openssl (deleted on exit): %s
Press Ctrl-C to stop.
`, p.clientAddr, p.serverAddr, p.echoAddr, demoCluster, p.ca.Fingerprint(), line, got,
		strings.Replace(p.clientAddr, ":", " ", 1),
		p.serverAddr, caFile, cert, key, p.serverAddr, p.dir)
	return nil
}

// echoLine sends one line to addr and returns the line that comes back.
func echoLine(addr, line string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("demo: dial client tunnel: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		return "", fmt.Errorf("demo: write: %w", err)
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("demo: read the echo: %w", err)
	}
	if got = strings.TrimSuffix(got, "\n"); got != line {
		return "", fmt.Errorf("demo: echo mismatch: sent %q, got %q", line, got)
	}
	return got, nil
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
