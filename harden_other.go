//go:build !linux

package main

// hardenProcess does nothing where there is no prctl and no /proc: core
// dumps are for the service manager to turn off (LimitCORE=0, ulimit -c 0).
func hardenProcess() func(name string) { return nil }
