package integration

import (
	"testing"
)

// TestAllowList runs allow { } through the binary: a server narrowing the
// nodes of a passphrase cluster by CN, URI and DNS, a server narrowing
// CA-verified clients by CN, and a client narrowing the servers it accepts.
// Each accepted tunnel carries a line; each refused one is closed with the
// refusing side naming the peer identity it did not allow.
func TestAllowList(t *testing.T) {
	passphraseTest(t)
	_, pass := passFile(t)
	f := newFixture(t)
	be := startEcho(t)
	type row struct {
		name  string
		allow string // the allow block; "" for none
		file  bool   // a CA-verified file tunnel instead of a passphrase one
		ok    bool
		// refused names the peer identity the refusing side logs.
		refused string
	}
	serverRows := []row{
		{"cn-ok", `allow { cn = ["app-1"] }`, false, true, ""},
		{"cn-no", `allow { cn = ["app-2", "db-1"] }`, false, false, `peer CN="app-1"`},
		{"uri-ok", `allow { uri = ["spiffe://passtunnel/node/*"] }`, false, true, ""},
		{"uri-no", `allow { uri = ["spiffe://other/**", "spiffe://passtunnel/node/app-1/*"] }`, false, false,
			`URI=["spiffe://passtunnel/node/app-1"]`},
		{"dns-ok", `allow { dns = ["**.internal"] }`, false, true, ""},
		{"file-cn-ok", `allow { cn = ["it-client"] }`, true, true, ""},
		{"file-cn-no", `allow { cn = ["it-other"] }`, true, false, `peer CN="it-client"`},
		{"open", "", false, true, ""},
	}
	var blocks []string
	for _, r := range serverRows {
		block := ptun{name: r.name, mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: pass}.hcl()
		if r.file {
			block = f.serverTun(r.name, "127.0.0.1:0", be.addr).hcl()
		}
		blocks = append(blocks, withLines(block, "  "+r.allow))
	}
	srv := runText(t, configBlocks(blocks...), []string{"PASSTUNNEL_NODE_NAME=db-1"})
	addrs := map[string]string{}
	for _, r := range serverRows {
		addrs[r.name] = srv.listenAddr(t, r.name)
	}

	// The client narrows the servers it accepts, on the open server tunnel.
	clientRows := []row{
		{"client-ok", `allow { uri = ["spiffe://passtunnel/node/db-1"] }`, false, true, ""},
		{"client-no", `allow { cn = ["db-9"] }`, false, false, `peer CN="db-1"`},
	}
	blocks = nil
	for _, r := range serverRows {
		block := ptun{name: r.name, mode: "client", listen: "127.0.0.1:0", target: addrs[r.name], passphrase: pass}.hcl()
		if r.file {
			block = f.clientTun(r.name, "127.0.0.1:0", addrs[r.name]).hcl()
		}
		blocks = append(blocks, block)
	}
	for _, r := range clientRows {
		block := ptun{name: r.name, mode: "client", listen: "127.0.0.1:0", target: addrs["open"], passphrase: pass}.hcl()
		blocks = append(blocks, withLines(block, "  "+r.allow))
	}
	cli := runText(t, configBlocks(blocks...), []string{"PASSTUNNEL_NODE_NAME=app-1"})

	for _, set := range []struct {
		rows     []row
		refuser  *proc
		isServer bool
	}{{serverRows, srv, true}, {clientRows, cli, false}} {
		for _, r := range set.rows {
			t.Run(r.name, func(t *testing.T) {
				if r.ok {
					echoOnce(t, cli.listenAddr(t, r.name), "through "+r.name)
					return
				}
				// In TLS 1.3 the client finishes its handshake before the
				// server has checked it: a server refusal shows on the
				// client as a closed connection, explained in the server's log.
				var e logEntry
				if set.isServer {
					c := dial(t, cli.listenAddr(t, r.name))
					expectClosed(t, c, ioTimeout)
					e = srv.mustLog(t, ioTimeout, "handshake failed (tunnel "+r.name+")", logMatch("handshake failed", "tunnel", r.name))
				} else {
					e = refusedThrough(t, cli, r.name)
				}
				wantError(t, e, r.refused, "is not allowed by allow { }")
				if got := e.str("reason"); got != "bad_certificate" {
					t.Errorf("reason %q, want bad_certificate", got)
				}
			})
		}
	}
}
