package filewatch

import (
	"path/filepath"
	"slices"
)

// dirsOf lists the directories whose changes can change what paths read:
// each path's parent as named, where an editor renames a new file over the
// old one and the kubelet swaps ..data, and the directory its symlinks lead
// to, where a file can be rewritten in place. A watch on a file itself
// would stay on the old inode and miss both.
func dirsOf(paths []string) []string {
	dirs := make([]string, 0, 2*len(paths))
	for _, p := range paths {
		dirs = append(dirs, filepath.Dir(filepath.Clean(p)))
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(resolved))
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// isIn reports whether an event on name is one in dir, or on dir itself
// (removed or renamed, which drops its watch).
func isIn(name, dir string) bool {
	return filepath.Dir(name) == dir || filepath.Clean(name) == dir
}

// followDirs points s's watches at the directories its paths lead to now.
// It reports false when s is stopped or the Watcher closed.
func (w *Watcher) followDirs(s *Set) bool {
	dirs := dirsOf(s.paths)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || s.stopped {
		return false
	}
	w.setDirsLocked(s, dirs)
	return true
}

// setDirsLocked makes dirs the directories s uses, adding the new ones
// before dropping the old, so that one both use is watched throughout.
func (w *Watcher) setDirsLocked(s *Set, dirs []string) {
	for _, d := range dirs {
		if !slices.Contains(s.dirs, d) {
			w.watchLocked(d)
		}
	}
	for _, d := range s.dirs {
		if !slices.Contains(dirs, d) {
			w.unwatchLocked(d)
		}
	}
	s.dirs = dirs
}

// watchLocked adds one user of dir, and the watch for its first.
func (w *Watcher) watchLocked(dir string) {
	w.dirs[dir]++
	if w.dirs[dir] > 1 || w.fsw == nil {
		return
	}
	if err := w.fsw.Add(dir); err != nil {
		w.log.Warn("cannot watch directory; changes there are found by the periodic re-check",
			"dir", dir, "interval", w.interval, "error", err)
	}
}

// unwatchLocked drops one user of dir, and the watch with its last.
func (w *Watcher) unwatchLocked(dir string) {
	if w.dirs[dir]--; w.dirs[dir] > 0 {
		return
	}
	delete(w.dirs, dir)
	if w.fsw != nil {
		// The directory may be gone already, which removed the watch too.
		_ = w.fsw.Remove(dir)
	}
}
