package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// clkTck is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. It is
// 100 on every Linux architecture Go supports (sysconf would need cgo).
const clkTck = 100

// cpuSeconds is the user plus system CPU time of process pid, all threads
// included (those that already exited too: the kernel folds them into the
// thread group's totals).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces and parentheses: split after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // field 14: utime
	st, err2 := strconv.ParseUint(f[12], 10, 64) // field 15: stime
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(ut+st) / clkTck, nil
}

// rssKB is VmRSS of process pid, in KiB.
func rssKB(pid int) (float64, error) {
	st, err := procStatusKB(pid)
	if err != nil {
		return 0, err
	}
	if v, ok := st["VmRSS"]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// procStatusKB is the fields of /proc/PID/status given in kB, in KiB.
func procStatusKB(pid int) (map[string]float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	fields := map[string]float64{}
	for _, l := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(l, ":")
		f := strings.Fields(rest) // "1234 kB"
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			fields[name] = v
		}
	}
	return fields, nil
}

// fdCount is the number of open file descriptors of pid (0 if unreadable).
func fdCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(ents)
}

// threadCount is the number of threads of pid (0 if unreadable).
func threadCount(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	return len(ents)
}

// raiseNofile lifts the soft RLIMIT_NOFILE to the hard limit; children
// started afterwards inherit it. Setrlimit is called even when the soft
// limit already equals the hard one: the Go runtime raises it by itself at
// start and would otherwise hand children the original, lower value.
func raiseNofile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return rl.Cur, nil
}
