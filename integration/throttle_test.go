package integration

import (
	"io"
	"strings"
	"testing"
)

// TestSuppressedCountAfterABurst: a burst of failing handshakes beyond the
// log throttle, then silence: the count of the lines it dropped is written
// within a few seconds on its own, not with the next burst.
func TestSuppressedCountAfterABurst(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	be := startEcho(t)
	pt := runText(t, configBlocks(f.serverTun("s", "127.0.0.1:0", be.addr).hcl()), nil)
	addr := pt.listenAddr(t, "s")
	const burst = 60 // the throttle lets 20 through at once
	for range burst {
		c := dial(t, addr)
		_, _ = io.WriteString(c, "not TLS\r\n\r\n")
		expectClosed(t, c, ioTimeout)
	}
	e := pt.mustLog(t, ioTimeout, "the suppressed count, with no line after the burst", func(e logEntry) bool {
		return strings.HasPrefix(e.str("msg"), "suppressed ") && e.num("suppressed") > 0
	})
	if n := len(pt.logs(logMatch("handshake failed"))); n+int(e.num("suppressed")) > burst || n >= burst {
		t.Errorf("%d handshake-failed lines and %v suppressed for %d failures", n, e.num("suppressed"), burst)
	}
}
