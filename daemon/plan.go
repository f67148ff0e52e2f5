package daemon

import (
	"fmt"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

// Plan renders one tunnel's resolved settings, defaults included, so an
// operator sees what will run rather than what was written.
func Plan(t *config.Tunnel) string { return PlanChecked(t, FileFacts{}) }

// PlanChecked is Plan with what CheckFiles found (FileFacts): the cluster
// CAs' fingerprints and the warnings.
func PlanChecked(t *config.Tunnel, f FileFacts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tunnel %q (%s)\n", t.Name, t.Pos)
	in, out := "TLS", "cleartext"
	if t.Mode == config.ModeClient {
		in, out = out, in
	}
	fmt.Fprintf(&b, "  %-9s %s %s -> %s %s\n", t.Mode, listenPlan(t), in, targetNames(t), out)
	writeBalancePlan(&b, t)
	writeConnectProxyPlan(&b, t)
	writeSNIPlan(&b, t)
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
	writePassphrasePlan(&b, t, f)
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
	// max_handshakes = 0 is sized where the tunnel runs, not where check does.
	atOnce := fmt.Sprintf("%d handshakes per CPU at once (at least %d)", proxy.AutoHandshakesPerCPU, proxy.MinAutoHandshakes)
	if l.MaxHandshakes > 0 {
		atOnce = fmt.Sprintf("%d handshakes at once", l.MaxHandshakes)
	}
	fmt.Fprintf(&b, "  %-9s max_connections %d%s, %s, handshake %s, connect %s, idle %s, lifetime %s, drain %s\n",
		"limits", l.MaxConnections, perSource, atOnce, l.HandshakeTimeout, l.ConnectTimeout,
		orNone(l.IdleTimeout), orNone(l.MaxLifetime), l.DrainTimeout)
	writeAdmissionPlan(&b, t)
	writeTransparentPlan(&b, t)
	for _, w := range f.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
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
	if c.PKCS12 != "" {
		fmt.Fprintf(b, "  %-9s pkcs12 %s\n", "identity", c.PKCS12)
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
