package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/passtunnel/passtunnel/internal/testwait"
)

// anonRSS is the private memory (RssAnon) of process pid, in bytes: the
// heap and stacks, not the binary's pages that the page cache shares.
func anonRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), "RssAnon: %d kB", &kb); err == nil {
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no RssAnon", pid)
}

// TestPassphraseTunnelReturnsArgon2Memory: deriving the cluster CA fills
// 64 MiB with Argon2 blocks. An idle passphrase sidecar used to keep them
// resident (100 MB of RSS where a certificate-file tunnel needs 40), on
// every pod of a cluster. Once the tunnel listens, its private memory is
// back under half the arena.
func TestPassphraseTunnelReturnsArgon2Memory(t *testing.T) {
	passphraseTest(t)
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	_, pf := passFile(t)
	pt := startPassRun(t, nil, ptun{name: "idle", mode: "server", listen: "127.0.0.1:0", target: "127.0.0.1:9", passphrase: pf})
	pt.listenAddr(t, "idle") // derived and listening
	const bound = 12 << 20
	var last int64
	testwait.Poll(t, ioTimeout, func() error {
		n, err := anonRSS(pt.cmd.Process.Pid)
		if last = n; err == nil && n > bound {
			err = fmt.Errorf("RssAnon %s MiB, want under %s MiB", strconv.FormatInt(n>>20, 10), strconv.Itoa(bound>>20))
		}
		return err
	})
	t.Logf("RssAnon of an idle passphrase tunnel: %d MiB", last>>20)
}

// TestIdleTunnelPrivateMemory: a tunnel that judges no passphrase holds
// only what its own work needs. The passphrase estimator's dictionaries,
// once built when its package was initialised, took 9.9 MB of heap in
// every process (RssAnon 14-15 MiB in all); built on first use they take
// nothing here (about 6 MiB).
func TestIdleTunnelPrivateMemory(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	pt := runText(t, configBlocks(`tunnel "idle" {
  mode   = "server"
  listen = "127.0.0.1:0"
  target = "127.0.0.1:9"
  tls {
    self_signed = true
    client_auth = "none"
  }
}
`), nil, "--state-dir", t.TempDir())
	pt.listenAddr(t, "idle")
	const bound = 10 << 20
	n, err := anonRSS(pt.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if n > bound {
		t.Errorf("RssAnon of an idle self-signed tunnel %d MiB, want under %d MiB", n>>20, bound>>20)
	}
	t.Logf("RssAnon of an idle self-signed tunnel: %d MiB", n>>20)
}
