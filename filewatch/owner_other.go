//go:build !unix

package filewatch

import "io/fs"

// owner is empty where files have no uid.
func owner(fs.FileInfo) string { return "" }
