package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestConfigReloadSIGHUP: a SIGHUP that adds one tunnel and removes another
// leaves the unchanged one alone: a 32 MiB transfer that spans the reload
// arrives intact, and its listener is never re-bound.
func TestConfigReloadSIGHUP(t *testing.T) {
	t.Parallel()
	const half = 16 << 20
	f := newFixture(t)
	be := startEcho(t)
	keep := f.serverTun("keep", "127.0.0.1:0", be.addr)
	drop := f.serverTun("drop", "127.0.0.1:0", be.addr)
	add := f.serverTun("add", "127.0.0.1:0", be.addr)
	pt := startReloadable(t, configText(keep, drop))
	keepAddr, dropAddr := pt.listenAddr(t, "keep"), pt.listenAddr(t, "drop")

	c := dialTLS(t, keepAddr, f.clientTLS(f.client))
	sent, got := sha256.New(), sha256.New()
	src := io.TeeReader(stream(11, 2*half), sent)
	reloaded := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		// Half before the reload, half after: the transfer spans it
		// whatever the machine's speed.
		if _, err := io.CopyN(c, src, half); err != nil {
			werr <- err
			return
		}
		<-reloaded
		_, err := io.Copy(c, src)
		werr <- err
		_ = c.CloseWrite()
	}()
	rres := make(chan error, 1)
	var n int64
	go func() {
		var err error
		n, err = io.Copy(got, c)
		rres <- err
	}()

	res := pt.reload(t, configText(keep, add))
	close(reloaded)
	expectCounts(t, res, 1, 1, 0, 1)

	ac := dialTLS(t, pt.listenAddr(t, "add"), f.clientTLS(f.client))
	roundTrip(t, ac, bufio.NewReader(ac), "through the added tunnel", "through the added tunnel")
	refusedWithin(t, dropAddr, reloadTimeout)

	if err := <-werr; err != nil {
		t.Fatalf("write across the reload: %v", err)
	}
	if err := <-rres; err != nil {
		t.Fatalf("read across the reload (%d bytes): %v", n, err)
	}
	if n != 2*half || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("echoed %d bytes of %d; sha256 equal: %v", n, 2*half, bytes.Equal(got.Sum(nil), sent.Sum(nil)))
	}
	if k := pt.listeningCount("keep"); k != 1 {
		t.Errorf("unchanged tunnel reported %d listeners, want 1 (never re-bound)", k)
	}
	if u := pt.logs(logMatch("tunnel updated", "tunnel", "keep")); len(u) != 0 {
		t.Errorf("unchanged tunnel was updated: %v", u)
	}
}

// TestConfigReloadChangedTunnel: a tunnel given a new target keeps its
// open connection on the old target while new connections reach the new
// one; a tunnel given a new listen address serves there, lets its open
// connection finish, and no longer accepts on the old address.
func TestConfigReloadChangedTunnel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, b := greeter(t, "A"), greeter(t, "B")
	dir := shortTempDir(t)
	retarget := f.serverTun("retarget", "127.0.0.1:0", a.addr)
	move := f.serverTun("move", sock(dir, "old.sock"), a.addr)
	pt := startReloadable(t, configText(retarget, move))
	retargetAddr, oldSock := pt.listenAddr(t, "retarget"), sock(dir, "old.sock")
	pt.listenAddr(t, "move")
	before := f.openSession(t, retargetAddr, "A")
	beforeMove := f.openSession(t, oldSock, "A")

	retarget.target = b.addr
	move.listen = sock(dir, "new.sock")
	expectCounts(t, pt.reload(t, configText(retarget, move)), 0, 0, 2, 0)

	after := f.openSession(t, retargetAddr, "B")
	after.echo(t, "on the new target")
	before.echo(t, "still on the old target")
	f.openSession(t, move.listen, "A").echo(t, "on the new address")
	beforeMove.echo(t, "still on the old address")
	unixGone(t, oldSock)
	pt.mustLog(t, reloadTimeout, "tunnel updated", logMatch("tunnel updated", "tunnel", "retarget",
		"target", b.addr))
	if k := pt.listeningCount("retarget"); k != 1 {
		t.Errorf("retargeted tunnel reported %d listeners, want 1 (updated in place)", k)
	}
}

// TestConfigReloadRefused: a config with a syntax error, then one whose
// certificate file is missing, are refused with file:line:col; the running
// tunnels keep serving, and no part of a refused config is applied.
func TestConfigReloadRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := greeter(t, "A")
	keep := f.serverTun("keep", "127.0.0.1:0", be.addr)
	good := configText(keep)
	pt := startReloadable(t, good)
	addr := pt.listenAddr(t, "keep")
	open := f.openSession(t, addr, "A")

	broken := good + "tunnel \"half\" {\n  mode = \n}\n"
	line := strings.Count(good, "\n") + 2
	res := pt.reload(t, broken)
	if res.str("msg") != "config reload refused" || res.str("level") != "ERROR" ||
		!strings.Contains(res.str("error"), pt.path+":"+strconv.Itoa(line)+":") {
		t.Fatalf("syntax error: result %v, want an ERROR naming %s:%d:col", res, filepath.Base(pt.path), line)
	}
	open.echo(t, "after a refused reload")
	f.openSession(t, addr, "A").echo(t, "new connection after a refused reload")

	// A bad certificate in a changed tunnel refuses the whole reload,
	// including the tunnel it would have added.
	badCert := keep
	badCert.cert = filepath.Join(t.TempDir(), "missing.pem")
	res = pt.reload(t, configText(badCert, f.serverTun("extra", "127.0.0.1:0", be.addr)))
	if res.str("msg") != "config reload refused" || !strings.Contains(res.str("error"), pt.path+":") {
		t.Fatalf("missing certificate: result %v, want refused with the config position", res)
	}
	if n := pt.listeningCount("extra"); n != 0 {
		t.Errorf("a tunnel of a refused config started")
	}
	open.echo(t, "after a refused certificate")

	// Fixing the file applies it.
	expectCounts(t, pt.reload(t, good), 0, 0, 0, 1)
}
