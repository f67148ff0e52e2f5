package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// watchLatency is how soon an edited file must start a reload, no SIGHUP.
const watchLatency = 2 * time.Second

// expectFileReload waits for a reload started by a file change within
// watchLatency of the edit, then for its result: the n+1th.
func (r *reloadable) expectFileReload(t *testing.T, n int) logEntry {
	t.Helper()
	starts := len(r.logs(logMatch("reloading config")))
	r.waitLogs(t, watchLatency, starts+1, "reloading config (trigger file change)",
		logMatch("reloading config", "trigger", "file change"))
	return r.nextResult(t, n)
}

// TestConfigReloadOnFileEdit: renaming a new config over the old one, as
// editors do, reloads it without a signal.
func TestConfigReloadOnFileEdit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	keep := f.serverTun("keep", "127.0.0.1:0", be.addr)
	pt := startReloadable(t, configText(keep))
	pt.listenAddr(t, "keep")

	replaceFile(t, pt.path, configText(keep, f.serverTun("added", "127.0.0.1:0", be.addr)))
	expectCounts(t, pt.expectFileReload(t, 0), 1, 0, 0, 1)
	c := dialTLS(t, pt.listenAddr(t, "added"), f.clientTLS(f.client))
	roundTrip(t, c, bufio.NewReader(c), "added by an edit", "added by an edit")
}

// TestConfigReloadKubernetesSwap: a config mounted from a ConfigMap is a
// symlink into ..data, itself a symlink to a timestamped directory that
// the kubelet replaces by renaming a new ..data over the old one. The file
// passtunnel opened is never written; the reload must still happen.
func TestConfigReloadKubernetesSwap(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	keep := f.serverTun("keep", "127.0.0.1:0", be.addr)
	mount := t.TempDir()
	secretSwap(t, mount, 1, map[string][]byte{"passtunnel.hcl": []byte(configText(keep))})
	path := filepath.Join(mount, "passtunnel.hcl")
	if err := os.Symlink(filepath.Join("..data", "passtunnel.hcl"), path); err != nil {
		t.Fatal(err)
	}
	pt := runReloadable(t, path)
	pt.listenAddr(t, "keep")

	added := configText(keep, f.serverTun("added", "127.0.0.1:0", be.addr))
	secretSwap(t, mount, 2, map[string][]byte{"passtunnel.hcl": []byte(added)})
	expectCounts(t, pt.expectFileReload(t, 0), 1, 0, 0, 1)
	pt.listenAddr(t, "added")
}

// TestConfigReloadPassphraseFile: a passphrase read with file() is part of
// the config: replacing the file reloads, and the tunnel changes in place.
func TestConfigReloadPassphraseFile(t *testing.T) {
	passphraseTest(t)
	be := startEcho(t)
	_, passPath := passFile(t)
	srv := ptun{name: "srv", mode: "server", listen: "127.0.0.1:0", target: be.addr, passphrase: passPath}
	pt := startReloadable(t, configText(srv))
	pt.listenAddr(t, "srv")

	replaceFile(t, passPath, newPassphrase(t)+"\n")
	expectCounts(t, pt.expectFileReload(t, 0), 0, 0, 1, 0)
	pt.mustLog(t, reloadTimeout, "tunnel updated", logMatch("tunnel updated", "tunnel", "srv"))
	if n := pt.listeningCount("srv"); n != 1 {
		t.Errorf("tunnel reported %d listeners, want 1 (changed in place)", n)
	}
}
