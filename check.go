package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// cmdCheck validates a config and prints what each tunnel will do. Unless
// -skip-files is given it also loads every certificate, key and CA file, so
// that a missing or mismatched file is found before a deploy, not after.
func cmdCheck(args []string, stdout, stderr io.Writer, loader config.Loader) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	load := configFlag(fs, loader)
	skipFiles := fs.Bool("skip-files", false, "do not load certificate, key and CA files "+
		"(for checking a config away from the host it runs on)")
	stateDir := stateDirFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if !*skipFiles {
		var errs []error
		opts, err := pkiOptions(slog.New(slog.DiscardHandler), *stateDir)
		if err != nil {
			return err
		}
		// A check writes nothing (no state directory, no self-signed
		// certificate) and reads each file once.
		opts.ReadOnly, opts.ReloadInterval = true, -1
		m := pki.NewManager(opts)
		defer m.Close()
		quiet := opts.Logger
		for i := range cfg.Tunnels {
			if _, err := buildTunnel(m, &cfg.Tunnels[i], quiet); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	for i := range cfg.Tunnels {
		fmt.Fprint(stdout, plan(&cfg.Tunnels[i]))
	}
	if cfg.Admin != nil {
		fmt.Fprintf(stdout, "admin %s: /metrics, /healthz, /readyz\n", cfg.Admin)
	}
	fmt.Fprintf(stdout, "%s: OK, %d tunnel(s)\n", cfg.File, len(cfg.Tunnels))
	return nil
}

// plan renders one tunnel's resolved settings, defaults included, so an
// operator sees what will run rather than what was written.
func plan(t *config.Tunnel) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tunnel %q (%s)\n", t.Name, t.Pos)
	in, out := "TLS", "cleartext"
	if t.Mode == config.ModeClient {
		in, out = out, in
	}
	fmt.Fprintf(&b, "  %-9s %s %s -> %s %s\n", t.Mode, listenPlan(t), in, t.Target, out)
	if a := t.ACME; a != nil {
		ca, storage := a.CA, a.Storage
		if ca == "" {
			ca = "Let's Encrypt"
		}
		if storage == "" {
			storage = "<state dir>/acme"
		}
		fmt.Fprintf(&b, "  %-9s acme %s from %s, storage %s\n", "identity", strings.Join(a.Domains, ", "), ca, storage)
	}
	if t.TLS != nil {
		writeTLSPlan(&b, t)
	}
	writeTrustPlan(&b, t)
	l := t.Limits
	perSource := "" // client tunnels have no inbound handshake to count
	if t.Mode == config.ModeServer {
		perSource = ", unlimited handshakes per source"
		if l.PerSourceHandshakes > 0 {
			perSource = fmt.Sprintf(", %d handshakes per source", l.PerSourceHandshakes)
		}
	}
	fmt.Fprintf(&b, "  %-9s max_connections %d%s, handshake %s, connect %s, idle %s, lifetime %s, drain %s\n",
		"limits", l.MaxConnections, perSource, l.HandshakeTimeout, l.ConnectTimeout,
		orNone(l.IdleTimeout), orNone(l.MaxLifetime), l.DrainTimeout)
	writeAdmissionPlan(&b, t)
	return b.String()
}

func writeTLSPlan(b *strings.Builder, t *config.Tunnel) {
	c := t.TLS
	if c.Cert != "" {
		key := c.Key
		if key == "" {
			key = "(in cert file)"
		}
		fmt.Fprintf(b, "  %-9s cert %s, key %s\n", "identity", c.Cert, key)
	}
	var trust []string
	if c.CA != "" {
		trust = append(trust, "ca "+c.CA)
	}
	if c.SystemRoots {
		trust = append(trust, "system roots")
	}
	if c.InsecureSkipVerify {
		trust = append(trust, "NOTHING VERIFIED (insecure_skip_verify)")
	}
	if t.Mode == config.ModeServer {
		trust = append(trust, "client_auth "+c.ClientAuth)
	} else if c.ServerName != "" {
		trust = append(trust, "server_name "+c.ServerName)
	}
	fmt.Fprintf(b, "  %-9s %s\n", "trust", strings.Join(trust, ", "))
	fmt.Fprintf(b, "  %-9s TLS %s-%s", "protocol", c.MinVersion, c.MaxVersion)
	if len(c.ALPN) > 0 {
		fmt.Fprintf(b, ", alpn %s", strings.Join(c.ALPN, ","))
	}
	if len(c.CipherSuites) > 0 {
		fmt.Fprintf(b, ", suites %s", strings.Join(c.CipherSuites, ","))
	}
	if len(c.Curves) > 0 {
		fmt.Fprintf(b, ", curves %s", strings.Join(c.Curves, ","))
	}
	if c.SessionResumptionDisabled {
		b.WriteString(", session_resumption false")
	} else if t.Mode == config.ModeServer {
		fmt.Fprintf(b, ", session_lifetime %s", c.SessionLifetime)
	}
	b.WriteString("\n")
}

func orNone(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}
