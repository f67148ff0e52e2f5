package daemon

import (
	"golang.org/x/sys/unix"
)

// HardenProcess keeps the secrets this process holds (passphrases, keys)
// out of core dumps and out of reach of other processes of its user, and
// returns what scrubs a secret variable from the environment the kernel
// still shows (nil when it cannot). main calls it first, once.
//
// PR_SET_DUMPABLE 0: no core dump, no ptrace attach, and /proc/PID/environ,
// mem, maps and fd belong to root instead of the user. RLIMIT_CORE 0: no
// core file either, whatever the dumpable setting later becomes (a setuid
// helper, a kernel.core_pattern pipe). Both only lower privileges, which
// is always allowed; a seccomp policy forbidding them leaves the process
// as it was, so their errors are ignored.
func HardenProcess() func(name string) {
	// Before PR_SET_DUMPABLE: afterwards /proc/self/mem belongs to root,
	// and a process running as another user could no longer open it.
	env := openInitialEnv()
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
	if env == nil {
		return nil
	}
	return env.scrub
}
