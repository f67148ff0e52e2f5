package netrules

import (
	"fmt"
	"strings"
)

// nftTable is the table every nftables rule of passtunnel lives in.
const nftTable = "inet passtunnel"

// nftRemove deletes the table whether it is there or not: declaring it
// first makes the delete always find it, in one transaction.
const nftRemove = "table " + nftTable + "\ndelete table " + nftTable + "\n"

// nftScript replaces the table in one transaction: the old rules go and
// the new ones come together, so no connection sees neither.
func (r *Ruleset) nftScript() string {
	if r.Empty() {
		return nftRemove
	}
	var b strings.Builder
	b.WriteString(nftRemove)
	fmt.Fprintf(&b, "table %s {\n", nftTable)
	for _, ch := range r.chains {
		if !ch.used(both) {
			continue
		}
		fmt.Fprintf(&b, "\tchain %s {\n\t\t%s\n", ch.nftName, ch.nftHook)
		for _, ru := range ch.rules {
			fmt.Fprintf(&b, "\t\t%s\n", ru.nft)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// iptFamilies are the iptables commands and the family each handles.
var iptFamilies = []struct {
	cmd string
	fam family
}{{"iptables", v4}, {"ip6tables", v6}}

// iptablesSteps fills passtunnel's own chains (creating or flushing each)
// and jumps to them once from the built-in chains; a chain this config
// does not use is removed.
func (r *Ruleset) iptablesSteps() []Step {
	var out []Step
	for _, ch := range r.chains {
		for _, f := range iptFamilies {
			if !ch.used(f.fam) {
				out = append(out, removeChain(f.cmd, ch)...)
				continue
			}
			out = append(out, Step{Cmd: []string{f.cmd, "-t", ch.table, "-N", ch.iptName},
				OrElse: []string{f.cmd, "-t", ch.table, "-F", ch.iptName}})
			for _, ru := range ch.rules {
				if ru.fam&f.fam != 0 {
					out = append(out, Step{Cmd: append([]string{f.cmd, "-t", ch.table, "-A", ch.iptName}, strings.Fields(ru.ipt)...)})
				}
			}
			jump := []string{ch.parent, "-p", "tcp", "-j", ch.iptName}
			out = append(out, Step{Cmd: append([]string{f.cmd, "-t", ch.table, "-C"}, jump...),
				OrElse: append([]string{f.cmd, "-t", ch.table, "-I"}, jump...)})
		}
	}
	return out
}

// removeChain takes one chain and its jump away, whether they are there
// or not.
func removeChain(cmd string, ch *chain) []Step {
	t := []string{cmd, "-t", ch.table}
	return []Step{
		{Cmd: append(append([]string{}, t...), "-D", ch.parent, "-p", "tcp", "-j", ch.iptName), MayFail: true},
		{Cmd: append(append([]string{}, t...), "-F", ch.iptName), MayFail: true},
		{Cmd: append(append([]string{}, t...), "-X", ch.iptName), MayFail: true},
	}
}
