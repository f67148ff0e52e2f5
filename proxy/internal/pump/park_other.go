//go:build !linux

package pump

// Without epoll an idle direction keeps a goroutine, with a small stack.

func parkIdle(*Pump, int) bool { return false }

func unparkIdle(*Pump, int) {}
