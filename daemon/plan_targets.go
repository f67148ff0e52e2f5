package daemon

import (
	"fmt"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// targetNames is how check shows where a tunnel connects: "a:80, b:80",
// or, for a transparent tunnel, each connection's original destination.
func targetNames(t *config.Tunnel) string {
	if t.IsTransparent() {
		return "original destination"
	}
	list := t.TargetList()
	names := make([]string, len(list))
	for i, a := range list {
		names[i] = a.String()
	}
	return strings.Join(names, ", ")
}

// balances says what each balance strategy does, for check.
var balances = map[string]string{
	config.BalanceFailover:   "the first target up, in the order given, takes the connections",
	config.BalanceRoundRobin: "each connection starts at the next target",
	config.BalanceRandom:     "each connection starts at a random target",
}

// writeBalancePlan shows how a tunnel with several targets uses them.
func writeBalancePlan(b *strings.Builder, t *config.Tunnel) {
	if len(t.TargetList()) < 2 {
		return
	}
	fmt.Fprintf(b, "  %-9s %s: %s; one that fails is tried after the others for 1s, doubling up to 30s\n",
		"balance", t.Balance, balances[t.Balance])
}
