package daemon

import (
	"log/slog"

	"github.com/passtunnel/passtunnel/proxy"
)

// descriptorBudget raises the process's descriptor limit as far as it may
// go and makes the budget every tunnel's connections take from (see
// proxy.DescriptorBudget), logging both once. nil, for no budget, where
// the limit cannot be read (not Linux): connections are then bounded by
// max_connections alone, as before.
func descriptorBudget(log *slog.Logger) *proxy.DescriptorBudget {
	soft, hard, err := raiseDescriptorLimit()
	if err != nil {
		log.Warn("descriptor limit not read: connections are not budgeted against it", "error", err)
		return nil
	}
	if soft == 0 {
		return nil // not a platform this reads the limit on
	}
	b := proxy.NewDescriptorBudget(int(min(soft, maxBudgeted)))
	log.Info("descriptors", "soft", soft, "hard", hard, "reserve", b.Reserve(),
		"budget", b.Limit()-b.Reserve())
	return b
}

// maxBudgeted caps the limit a budget is made for: an "unlimited" soft
// limit must not overflow it, and no process opens more than this.
const maxBudgeted = 1 << 30
