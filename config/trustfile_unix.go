//go:build unix

package config

import (
	"io/fs"
	"syscall"
)

// modesMeaningful: unix modes and owners say who may change a file.
const modesMeaningful = true

// ownerOf is the uid that owns the file fi describes.
func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
