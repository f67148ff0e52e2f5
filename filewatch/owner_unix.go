//go:build unix

package filewatch

import (
	"io/fs"
	"strconv"
	"syscall"
)

// owner is "uid:gid" of the file fi describes.
func owner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Uid), 10) + ":" + strconv.FormatUint(uint64(st.Gid), 10)
}
