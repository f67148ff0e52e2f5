package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesApplyRemove: inside a namespace, `passtunnel rules -apply` on a
// config with every kind of rule (redirect, tproxy, transparent_source)
// installs them, applying again changes nothing, and -remove leaves
// nothing of passtunnel's: for nftables and for iptables.
func TestRulesApplyRemove(t *testing.T) {
	t.Parallel()
	config := filepath.Join("..", "netrules", "testdata", "mixed.hcl")
	for _, c := range []struct {
		backend string
		list    [][]string // the commands that show the backend's rules
	}{
		{"nftables", [][]string{{"nft", "list", "ruleset"}}},
		{"iptables", [][]string{{"iptables-save"}, {"ip6tables-save"}}},
	} {
		t.Run(c.backend, func(t *testing.T) {
			t.Parallel()
			needProgram(t, c.list[0][0])
			h := newNetLab(t, 1).hosts[0]
			state := func() string {
				var b strings.Builder
				for _, cmd := range append(c.list, []string{"ip", "-4", "rule"}, []string{"ip", "-6", "rule"},
					[]string{"ip", "route", "show", "table", "all"}, []string{"ip", "-6", "route", "show", "table", "all"}) {
					for _, l := range strings.Split(h.run(t, cmd[0], cmd[1:]...).stdout.String(), "\n") {
						if !strings.HasPrefix(l, "#") { // iptables-save's comments hold the time
							b.WriteString(l + "\n")
						}
					}
				}
				return b.String()
			}
			rules := func(args ...string) {
				h.run(t, binPath, append([]string{"rules", "-config", config, "-backend", c.backend}, args...)...)
			}
			rules("-apply")
			once := state()
			for _, want := range []string{"tproxy", "redirect", "fwmark 0x7075 lookup 7075", "local default dev lo table 7075"} {
				if !strings.Contains(strings.ToLower(once), strings.ToLower(want)) {
					t.Errorf("after -apply, no %q in:\n%s", want, once)
				}
			}
			rules("-apply")
			if twice := state(); twice != once {
				t.Errorf("applying twice differs from once:\nonce:\n%s\ntwice:\n%s", once, twice)
			}
			rules("-remove")
			after := state()
			for _, gone := range []string{"passtunnel", "7075"} {
				if strings.Contains(strings.ToLower(after), gone) {
					t.Errorf("after -remove, %q is left:\n%s", gone, after)
				}
			}
			rules("-remove") // removing what is not there is no error
		})
	}
}
