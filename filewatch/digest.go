package filewatch

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Digest identifies what one read of a file gave: the SHA-256 of its
// content and of who may change it (mode and owner), or of the error that
// kept it from being read, so that a file that goes from missing to
// unreadable is a change too. Mode and owner count because a file that
// others could write is refused (config.CheckTrustFile): a chmod that
// makes it safe again, or unsafe, must be looked at like an edit.
type Digest [sha256.Size]byte

// Sum reads path through its symlinks, as a caller opening it does.
func Sum(path string) Digest {
	d, _ := sum(path)
	return d
}

// sum is Sum, and whether the read failed for a reason that says nothing
// about the file: the process is out of descriptors or memory, or was
// interrupted. Such a read is no news, neither a change nor the absence
// of one.
func sum(path string) (Digest, bool) {
	data, err := os.ReadFile(path)
	h := sha256.New()
	// A tag byte first, so that no content hashes like an error.
	if err != nil {
		h.Write([]byte{1})
		h.Write([]byte(err.Error()))
	} else {
		h.Write([]byte{0})
		if fi, serr := os.Stat(path); serr == nil {
			fmt.Fprintf(h, "%d %s\x00", uint32(fi.Mode()), owner(fi))
		}
		h.Write(data)
	}
	var d Digest
	h.Sum(d[:0])
	return d, transient(err)
}

func transient(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EINTR, syscall.EAGAIN} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// SumAll is the Digest of each of paths.
func SumAll(paths []string) map[string]Digest {
	sums := make(map[string]Digest, len(paths))
	for _, p := range paths {
		sums[p] = Sum(p)
	}
	return sums
}
