package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// initialEnv is the environment block the kernel gave the process, which
// /proc/PID/environ shows for its whole life: Go copies it at start, so
// os.Unsetenv does not touch it. It is overwritten through /proc/self/mem,
// opened once before the process turns non-dumpable (see hardenProcess)
// and kept for secrets a config reload reads later.
type initialEnv struct {
	mem        *os.File
	start, end int64 // [env_start, env_end) in the address space
}

// openInitialEnv finds the block; nil when it cannot (no /proc, a
// seccomp policy): scrubbing is best effort.
func openInitialEnv() *initialEnv {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return nil
	}
	start, end, err := envBounds(stat)
	if err != nil {
		return nil
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	return &initialEnv{mem: mem, start: start, end: end}
}

// envBounds reads env_start and env_end, fields 50 and 51 of
// /proc/PID/stat (proc(5); 48 and 49 are arg_start and arg_end). Field 2,
// the command name in parentheses, may hold spaces and parentheses, so
// fields are counted after its last ')'.
func envBounds(stat []byte) (start, end int64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("no command name in /proc/self/stat")
	}
	fields := bytes.Fields(stat[i+1:]) // fields[0] is field 3
	const first = 3
	if len(fields) <= 51-first {
		return 0, 0, fmt.Errorf("/proc/self/stat has %d fields, want 51 (Linux 3.5 or later)", len(fields)+first-1)
	}
	start, err = strconv.ParseInt(string(fields[50-first]), 10, 64)
	if err == nil {
		end, err = strconv.ParseInt(string(fields[51-first]), 10, 64)
	}
	if err == nil && (start <= 0 || end < start) {
		err = fmt.Errorf("environment block [%d, %d) makes no sense", start, end)
	}
	return start, end, err
}

// scrub overwrites with NUL bytes the value of every NAME=value entry of
// the block, leaving the other variables as they are. Best effort: an
// error leaves the value there, where only root can read it anyway (the
// process is not dumpable).
func (e *initialEnv) scrub(name string) {
	block := make([]byte, e.end-e.start)
	if _, err := e.mem.ReadAt(block, e.start); err != nil {
		return
	}
	prefix := []byte(name + "=")
	for off := 0; off < len(block); {
		n := bytes.IndexByte(block[off:], 0)
		if n < 0 {
			n = len(block) - off
		}
		if entry := block[off : off+n]; bytes.HasPrefix(entry, prefix) {
			value := int64(off + len(prefix))
			_, _ = e.mem.WriteAt(make([]byte, n-len(prefix)), e.start+value)
		}
		off += n + 1
	}
}
