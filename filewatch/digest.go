package filewatch

import (
	"crypto/sha256"
	"fmt"
	"os"
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
	return d
}

// SumAll is the Digest of each of paths.
func SumAll(paths []string) map[string]Digest {
	sums := make(map[string]Digest, len(paths))
	for _, p := range paths {
		sums[p] = Sum(p)
	}
	return sums
}
