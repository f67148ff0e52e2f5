package integration

import (
	"fmt"
	"strings"
	"testing"
)

// withLines adds HCL lines at the end of one tunnel block (tun.hcl,
// ptun.hcl), for the settings those builders do not know.
func withLines(block, lines string) string {
	return strings.TrimSuffix(block, "}\n") + lines + "\n}\n"
}

// refusedThrough sends a line into client tunnel name of cli, expects the
// connection closed without a reply, and returns that tunnel's "handshake
// failed" line.
func refusedThrough(t *testing.T, cli *proc, name string) logEntry {
	t.Helper()
	expectRefusedDial(t, cli.listenAddr(t, name), "must not arrive through "+name+"\n", ioTimeout)
	return cli.mustLog(t, ioTimeout, fmt.Sprintf("handshake failed (tunnel %q)", name),
		logMatch("handshake failed", "tunnel", name))
}

// wantError fails unless log entry e's error holds every one of subs.
func wantError(t *testing.T, e logEntry, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(e.str("error"), s) {
			t.Errorf("error %q lacks %q (entry %v)", e.str("error"), s, e)
		}
	}
}
