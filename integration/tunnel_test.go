package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startTimeout bounds how long passtunnel may take to report a listener.
const startTimeout = 15 * time.Second

// tun is one tunnel block of a test config.
type tun struct {
	name, mode, listen, target string
	cert, key, ca              string
	serverName                 string // client only
	limits                     string // body of a limits block, "" for none
}

// serverTun is a server tunnel with the fixture's server cert trusting CA A.
func (f *fixture) serverTun(name, listen, target string) tun {
	return tun{name: name, mode: "server", listen: listen, target: target,
		cert: f.server.cert, key: f.server.key, ca: f.caA}
}

// clientTun is a client tunnel presenting the client cert, trusting CA A
// and expecting a server named localhost.
func (f *fixture) clientTun(name, listen, target string) tun {
	return tun{name: name, mode: "client", listen: listen, target: target,
		cert: f.client.cert, key: f.client.key, ca: f.caA, serverName: "localhost"}
}

func (c tun) hcl() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tunnel %q {\n  mode   = %q\n  listen = %q\n  target = %q\n", c.name, c.mode, c.listen, c.target)
	b.WriteString("  tls {\n")
	for _, kv := range [][2]string{{"cert", c.cert}, {"key", c.key}, {"ca", c.ca}, {"server_name", c.serverName}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "    %s = %q\n", kv[0], kv[1])
		}
	}
	b.WriteString("  }\n")
	if c.limits != "" {
		fmt.Fprintf(&b, "  limits {\n%s\n  }\n", c.limits)
	}
	b.WriteString("}\n")
	return b.String()
}

// logSettings opens every test config: debug logs, in JSON for the log
// readers (listenAddr, mustLog) to parse.
const logSettings = "log_level  = \"debug\"\nlog_format = \"json\"\n\n"

// configText is a whole config file with JSON debug logs, from tunnel
// builders: tun, or ptun for passphrase tunnels.
func configText[T interface{ hcl() string }](tunnels ...T) string {
	var b strings.Builder
	b.WriteString(logSettings)
	for _, c := range tunnels {
		b.WriteString(c.hcl())
		b.WriteString("\n")
	}
	return b.String()
}

// configBlocks is a whole config file with JSON debug logs around tunnel
// blocks given as text, for settings the builders do not know.
func configBlocks(blocks ...string) string {
	return logSettings + strings.Join(blocks, "\n")
}

// runText writes text as the config file and runs `passtunnel run` on it,
// with env added to the environment and args after the config
// (--state-dir).
func runText(t testing.TB, text string, env []string, args ...string) *proc {
	t.Helper()
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(text))
	return startProc(t, binPath, append([]string{"run", "-config", path}, args...), procOpts{env: env})
}

// startRun writes the tunnels to a config file and runs `passtunnel run`.
func startRun(t testing.TB, tunnels ...tun) *proc {
	t.Helper()
	return runText(t, configText(tunnels...), nil)
}

// startFlags runs `passtunnel server|client` with flags and JSON logs.
func startFlags(t testing.TB, args ...string) *proc {
	t.Helper()
	return startProc(t, binPath, append(args, "--log-format", "json"), procOpts{})
}

// listenAddr waits for the "tunnel listening" line of the named tunnel (any
// tunnel if name is "") and returns the address it reports.
func (p *proc) listenAddr(t testing.TB, name string) string {
	t.Helper()
	e := p.mustLog(t, startTimeout, fmt.Sprintf("tunnel listening (tunnel %q)", name), func(e logEntry) bool {
		return e.str("msg") == "tunnel listening" && (name == "" || e.str("tunnel") == name)
	})
	addr := e.str("listen")
	if addr == "" {
		t.Fatalf("%s: tunnel listening line without listen address: %v", p.label, e)
	}
	return addr
}

// sock is a unix socket path in dir, in passtunnel's "unix:" form.
func sock(dir, name string) string { return "unix:" + filepath.Join(dir, name) }
