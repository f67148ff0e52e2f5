//go:build unix

package testfs

import "syscall"

// StrictUmask sets the process umask to 022 for a test binary, from its
// TestMain. passtunnel refuses a trust file in a directory its group may
// write to, and t.TempDir makes directories with mode 0777 less the umask:
// under the 002 that many desktop systems give their users, every test
// file would sit in a group-writable directory and be refused. The binary
// the integration tests start inherits it.
func StrictUmask() { syscall.Umask(0o022) }
