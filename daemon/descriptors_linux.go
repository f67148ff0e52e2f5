package daemon

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// raiseDescriptorLimit raises RLIMIT_NOFILE's soft limit to the hard one
// and returns both as they are then. The soft limit many service managers
// and shells leave (1024) is a leftover of select(2), which Go does not
// use; the hard limit is the one the operator set. The Go runtime raises
// it too at start (Go 1.19 and later, on Linux); doing it here makes it
// this program's decision rather than a runtime detail, and the budget
// must be sized on the limit actually in force, which this reads. A
// refused raise (a seccomp policy, say) leaves the budget on the soft
// limit.
func raiseDescriptorLimit() (soft, hard uint64, err error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < lim.Max {
		raised := unix.Rlimit{Cur: lim.Max, Max: lim.Max}
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &raised) == nil {
			lim = raised
		}
	}
	return lim.Cur, lim.Max, nil
}
