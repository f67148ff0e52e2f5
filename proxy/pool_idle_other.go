//go:build !linux

package proxy

// Without epoll an idle direction keeps a goroutine, with a small stack.

func parkIdle(*pumpState, int) bool { return false }

func unparkIdle(*pumpState, int) {}
