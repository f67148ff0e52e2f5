package pki

import (
	"fmt"
	"os"
)

// warnKeyMode logs, once per file for the life of the process, that the
// private key of tunnel (keyFile, or certFile holding the key too) can be
// read by group or others. Not an error: many deployments have such keys
// (a Kubernetes Secret volume's files are 0644 unless defaultMode says
// otherwise), but whoever can read the key can be this tunnel.
func (r *reloader) warnKeyMode(tunnel, certFile, keyFile string) {
	path := keyFile
	if path == "" {
		path = certFile
	}
	fi, err := os.Stat(path) // through symlinks: the mode of what is read
	if err != nil || fi.Mode().Perm()&0o044 == 0 {
		return
	}
	if r.keyWarned.first(path) {
		mode := fmt.Sprintf("%04o", uint32(fi.Mode().Perm()))
		r.log.Warn("private key is readable by group or others: whoever can read it can act as this tunnel; "+
			"chmod go-r it (a Kubernetes Secret volume: defaultMode 0400, or 0440 with fsGroup)",
			"tunnel", tunnel, "file", path, "mode", mode)
	}
}
