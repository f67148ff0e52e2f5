//go:build !linux

package daemon

// HardenProcess does nothing where there is no prctl and no /proc: core
// dumps are for the service manager to turn off (LimitCORE=0, ulimit -c 0).
func HardenProcess() func(name string) { return nil }
