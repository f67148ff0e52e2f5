package daemon

import (
	"fmt"
	"strings"

	"github.com/passtunnel/passtunnel/config"
)

// FileFacts is what CheckFiles learnt about one tunnel from its files and
// secrets, for its plan: what Plan alone cannot know without reading them
// (or, for a passphrase, without a second of Argon2id).
type FileFacts struct {
	// ClusterCA is the fingerprint of the CA the passphrase derives;
	// PreviousCAs those of previous_passphrases, in their order.
	ClusterCA   string
	PreviousCAs []string
	// Warnings are problems that do not stop the tunnel, one line each.
	Warnings []string
}

// writePassphrasePlan names a passphrase tunnel's identity by where the
// passphrase comes from, never by its value. The CA's fingerprint costs a
// derivation: CheckFiles finds it, f brings it.
func writePassphrasePlan(b *strings.Builder, t *config.Tunnel, f FileFacts) {
	if !t.Passphrase.IsSet() {
		return
	}
	fmt.Fprintf(b, "  %-9s node certificate from passphrase %s, cluster %s\n", "identity", t.Passphrase.Source, t.Cluster)
	if n := len(t.PreviousPassphrases); n > 0 {
		var from []string
		for _, p := range t.PreviousPassphrases {
			from = append(from, p.Source)
		}
		fmt.Fprintf(b, "  %-9s peers of the previous passphrases too: %s\n", "trust", strings.Join(from, ", "))
	}
	if f.ClusterCA == "" {
		fmt.Fprintf(b, "  %-9s cluster CA derived from the passphrase (check without -skip-files prints its fingerprint)\n", "trust")
		return
	}
	fmt.Fprintf(b, "  %-9s cluster CA %s\n", "trust", f.ClusterCA)
	for i, fp := range f.PreviousCAs {
		fmt.Fprintf(b, "  %-9s cluster CA %s (previous_passphrases element %d)\n", "trust", fp, i+1)
	}
}
