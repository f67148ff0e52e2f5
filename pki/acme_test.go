package pki

import (
	"crypto/tls"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/testfs"
	"github.com/passtunnel/passtunnel/internal/testlog"
)

// acmeTunnel is a server tunnel with an acme block requiring client
// certificates of ca. Its CA URL is never dialled: nothing calls Listening.
func acmeTunnel(t *testing.T, ca testCA) *config.Tunnel {
	tun := tunnel(config.ModeServer, &config.TLS{CA: ca.file, ClientAuth: "require", MinVersion: "1.2", MaxVersion: "1.3"})
	tun.Listen = config.Address{Network: config.NetTCP, Addr: "127.0.0.1:0"}
	tun.ACME = &config.ACME{
		Domains: []string{"edge.example.test"},
		CA:      "https://127.0.0.1:1/directory",
		Storage: testfs.SettlingDir(t),
	}
	tun.Fields["acme"] = config.Pos{File: "bad.hcl", Line: 12, Column: 3}
	tun.Fields["acme.trusted_roots"] = config.Pos{File: "bad.hcl", Line: 14, Column: 5}
	return tun
}

func TestACMEChallengeGetsNoClientAuth(t *testing.T) {
	m := NewManager(Options{})
	t.Cleanup(m.Close)
	e, err := m.Server(acmeTunnel(t, newTestCA(t, "clients")))
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.Config
	challengeHello := &tls.ClientHelloInfo{ServerName: "edge.example.test", SupportedProtos: []string{"acme-tls/1"}}
	ch, err := cfg.GetConfigForClient(challengeHello)
	if err != nil || ch == nil {
		t.Fatalf("challenge hello: config %v, error %v", ch, err)
	}
	if ch.ClientAuth != tls.NoClientCert || len(ch.NextProtos) != 1 || ch.NextProtos[0] != "acme-tls/1" || !ch.SessionTicketsDisabled {
		t.Errorf("challenge config: ClientAuth %v, NextProtos %v, tickets disabled %v", ch.ClientAuth, ch.NextProtos, ch.SessionTicketsDisabled)
	}
	// The challenge config serves challenge certificates only: with none
	// pending, a CA-like handshake fails instead of getting another one.
	r := handshake(t, cfg, &tls.Config{ServerName: "edge.example.test", NextProtos: []string{"acme-tls/1"}, InsecureSkipVerify: true})
	if r.serverErr == nil || !strings.Contains(r.serverErr.Error(), "no information found to solve challenge") {
		t.Errorf("acme-tls/1 handshake with no challenge pending: server error %v", r.serverErr)
	}

	// Every other hello keeps the tunnel's client authentication: with
	// hot reload on, crypto/tls demands a certificate and VerifyConnection
	// checks it against tls.ca.
	for _, protos := range [][]string{nil, {"h2", "acme-tls/1"}, {"acme-tls/1", "acme-tls/1"}} {
		hello := &tls.ClientHelloInfo{ServerName: "edge.example.test", SupportedProtos: protos}
		got, err := cfg.GetConfigForClient(hello)
		if err != nil {
			t.Fatalf("protos %v: %v", protos, err)
		}
		if got == nil {
			got = cfg
		}
		if got.ClientAuth != tls.RequireAnyClientCert && got.ClientAuth != tls.RequireAndVerifyClientCert {
			t.Errorf("protos %v: ClientAuth %v, want a required client certificate", protos, got.ClientAuth)
		}
		if got.ClientAuth == tls.RequireAnyClientCert && got.VerifyConnection == nil {
			t.Errorf("protos %v: client certificates demanded but never verified", protos)
		}
	}

	// Release stops the renewals of a state no config uses.
	e.Release()
	m.mu.Lock()
	left := len(m.acme.states)
	m.mu.Unlock()
	if left != 0 {
		t.Errorf("%d ACME states left after Release", left)
	}
}

func TestACMERefusals(t *testing.T) {
	ca := newTestCA(t, "clients")
	for _, tc := range []struct {
		name string
		edit func(*config.Tunnel)
		want string
	}{
		{"client mode", func(tun *config.Tunnel) { tun.Mode = config.ModeClient },
			`bad.hcl:12:3: tunnel "redis": acme: only meaningful in server mode`},
		{"with a certificate file", func(tun *config.Tunnel) { tun.TLS.Cert = "tls.crt" },
			`bad.hcl:12:3: tunnel "redis": acme: conflicts with tls.cert`},
		{"unix listener", func(tun *config.Tunnel) { tun.Listen = config.Address{Network: config.NetUnix, Addr: "/run/x.sock"} },
			`tunnel "redis": listen: acme needs a host:port listener`},
		{"reserved ALPN", func(tun *config.Tunnel) { tun.TLS.ALPN = []string{"h2", "acme-tls/1"} },
			`tunnel "redis": tls.alpn: "acme-tls/1" is reserved for the ACME challenge`},
		{"missing trusted roots", func(tun *config.Tunnel) { tun.ACME.TrustedRoots = "/nonexistent/roots.pem" },
			`bad.hcl:14:5: tunnel "redis": acme.trusted_roots: CA file "/nonexistent/roots.pem": no such file or directory`},
		{"client auth without tls.ca", func(tun *config.Tunnel) { tun.TLS = nil },
			`tunnel "redis": tls.client_auth: "require" needs tls.ca`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewManager(Options{})
			t.Cleanup(m.Close)
			tun := acmeTunnel(t, ca)
			tc.edit(tun)
			var err error
			if tun.Mode == config.ModeClient {
				_, err = m.ClientTLSConfig(tun, "edge.example.test")
			} else {
				_, err = m.ServerTLSConfig(tun)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// certmagic's chatter goes to DEBUG, its warnings and errors to WARN (the
// ERROR line of a failure is passtunnel's own), with sorted fields.
func TestZapToSlog(t *testing.T) {
	var buf testlog.Buffer
	zl := zapToSlog(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})).Named("obtain")
	zl.With(zap.String("b", "2")).Info("obtaining certificate", zap.String("a", "1"))
	zl.Error("could not get certificate", zap.Int("attempt", 3))
	out := buf.String()
	for _, want := range []string{
		`level=DEBUG msg="obtaining certificate" logger=obtain a=1 b=2`,
		`level=WARN msg="could not get certificate" logger=obtain attempt=3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	var infoBuf testlog.Buffer
	quiet := zapToSlog(slog.NewTextHandler(&infoBuf, nil)) // INFO and up
	quiet.Info("chatter")
	if infoBuf.String() != "" {
		t.Errorf("certmagic INFO logged at the process's INFO level: %s", infoBuf.String())
	}
}
