//go:build !linux

package daemon

// raiseDescriptorLimit does nothing off Linux, and returns 0: no budget.
// The Go runtime raises the soft limit itself on the Unix systems it can.
func raiseDescriptorLimit() (soft, hard uint64, err error) { return 0, 0, nil }
