package daemon

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// writeAdmissionPlan adds the rate limits and the PROXY protocol to a
// tunnel's plan, when they are set: who gets in, and what the target is
// told about them.
func writeAdmissionPlan(b *strings.Builder, t *config.Tunnel) {
	l := t.Limits
	if l.AcceptRate > 0 || l.PerSourceRate > 0 {
		fmt.Fprintf(b, "  %-9s accept_rate %s, per_source_rate %s\n", "rates", perSecond(l.AcceptRate), perSecond(l.PerSourceRate))
	}
	p := t.ProxyProtocol
	if p.Accept != "none" {
		from := strings.Join(p.Trusted, ", ")
		if t.Listen.Network == config.NetUnix {
			from = "any local process on the socket"
		}
		fmt.Fprintf(b, "  %-9s accept %s header from %s\n", "proxy", p.Accept, from)
	}
	if p.Send != "none" {
		tlvs := ""
		if p.TLSTLVs {
			tlvs = " with TLS TLVs"
		}
		fmt.Fprintf(b, "  %-9s send %s header%s to %s\n", "proxy", p.Send, tlvs, targetNames(t))
	}
}

func perSecond(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'g', -1, 64) + "/s"
}
