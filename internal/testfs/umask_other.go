//go:build !unix

package testfs

// StrictUmask does nothing where there is no umask (see umask_unix.go).
func StrictUmask() {}
