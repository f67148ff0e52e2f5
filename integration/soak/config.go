package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/pki"
)

// Tunnel names in the soak's config. Traffic runs client -> server ->
// backend; the "-down" pair leads to a target that refuses every dial.
const (
	tunServer     = "server"
	tunServerDown = "server-down"
	tunClient     = "client"
	tunClientDown = "client-down"
)

// handshakeTimeout is the server tunnels' handshake_timeout: the longest
// a slowloris may hold a connection.
const handshakeTimeout = 10 * time.Second

// daemonConfig is what the soak's config file holds. The client tunnels
// get their targets once the server tunnels' ports are known (every
// listener binds port 0), and generation changes a setting on every reload so
// that each one really changes the tunnels.
type daemonConfig struct {
	ids                *identities
	backend, refused   string // targets of the server tunnels
	server, serverDown string // the server tunnels' bound addresses, "" before they are known
	generation         int
	quiet              bool // log at warn: set once the addresses are read from the INFO lines
}

// limits are the same for every tunnel but per_source_handshakes, off on
// the server tunnels: all healthy traffic reaches them from the client
// tunnels' one address, and the soak bounds its hostile connections
// itself. idle_timeout alternates between two values far above any
// transfer's pauses, so that a reload changes every tunnel (the path that
// rebuilds their settings) without changing what the load sees.
func (c *daemonConfig) limits(server bool) string {
	var b strings.Builder
	b.WriteString("  limits {\n    max_connections = 4096\n")
	if server {
		fmt.Fprintf(&b, "    per_source_handshakes = 0\n    handshake_timeout = %q\n", handshakeTimeout)
	}
	fmt.Fprintf(&b, "    idle_timeout = \"%dm\"\n  }\n", 10+c.generation%2)
	return b.String()
}

func (c *daemonConfig) serverTunnel(name, target string) string {
	m := c.ids.server
	return fmt.Sprintf("tunnel %q {\n  mode   = \"server\"\n  listen = \"127.0.0.1:0\"\n  target = %q\n"+
		"  tls {\n    cert = %q\n    key  = %q\n    ca   = %q\n    client_auth = \"require\"\n  }\n%s}\n\n",
		name, target, m.cert(), m.key(), m.caFile(), c.limits(true))
}

func (c *daemonConfig) clientTunnel(name, target string) string {
	m := c.ids.client
	return fmt.Sprintf("tunnel %q {\n  mode   = \"client\"\n  listen = \"127.0.0.1:0\"\n  target = %q\n"+
		"  tls {\n    cert = %q\n    key  = %q\n    ca   = %q\n    server_name = \"localhost\"\n  }\n%s}\n\n",
		name, target, m.cert(), m.key(), m.caFile(), c.limits(false))
}

// render is the whole file. Logs are JSON, at info until the listeners'
// addresses are read from them, then at warn: the per-connection INFO
// lines of a long run would fill the disk, and every ERROR line is a
// finding.
func (c *daemonConfig) render() string {
	var b strings.Builder
	level := "info"
	if c.quiet {
		level = "warn"
	}
	fmt.Fprintf(&b, "log_level  = %q\nlog_format = \"json\"\nadmin      = \"127.0.0.1:0\"\n\n", level)
	b.WriteString(c.serverTunnel(tunServer, c.backend))
	b.WriteString(c.serverTunnel(tunServerDown, c.refused))
	// Until the server tunnels' ports are known the client tunnels point
	// at the refusing target: they must be in the first config, which
	// decides the directories the daemon's sandbox lets it read.
	server, serverDown := c.server, c.serverDown
	if server == "" {
		server, serverDown = c.refused, c.refused
	}
	b.WriteString(c.clientTunnel(tunClient, server))
	b.WriteString(c.clientTunnel(tunClientDown, serverDown))
	return b.String()
}

// write replaces the file at path in one rename: the daemon watches it and
// must never read half a config.
func (c *daemonConfig) write(path string) error {
	return pki.WriteFileAtomic(path, []byte(c.render()), 0o600)
}
