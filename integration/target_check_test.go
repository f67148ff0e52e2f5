package integration

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestTargetCheckReadiness: a tunnel with target_check whose only target
// is dead makes /readyz 503, naming the tunnel and the target, and
// target_up 0, with no connection through it; once the target listens,
// /readyz is 200 and target_up 1 within a few checks.
func TestTargetCheckReadiness(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dead := deadTarget(t)
	block := strings.Replace(targetsTunnel(f, "checked", "failover", dead),
		"  balance", "  target_check = \"50ms\"\n  balance", 1)
	pt := runText(t, "admin = \"127.0.0.1:0\"\n"+configBlocks(block), nil)
	pt.listenAddr(t, "checked")
	admin := newAdminClient(t, pt.adminAddr(t, 0))

	admin.waitBody(t, "/readyz", http.StatusServiceUnavailable,
		fmt.Sprintf(`tunnel "checked": every target is down: %s (`, dead), startTimeout)
	up := fmt.Sprintf(`passtunnel_target_up{target=%q,tunnel="checked"}`, dead)
	admin.waitMetric(t, up, 0, startTimeout)
	pt.waitLogs(t, ioTimeout, 1, "target check failed", logMatch("target check failed", "target", dead))

	ln, err := net.Listen("tcp", dead) // the target comes up
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	admin.waitStatus(t, "/readyz", http.StatusOK, startTimeout)
	admin.waitMetric(t, up, 1, startTimeout)
	pt.waitLogs(t, ioTimeout, 1, "target up again", logMatch("target up again", "target", dead))
}
