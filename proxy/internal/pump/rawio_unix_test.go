//go:build unix

package pump

import (
	"syscall"
	"testing"
)

// A socket in blocking mode gets no raw reader or writer: a raw call on it
// could block a thread the runtime does not know is in a system call. The
// pump then goes through net.Conn, as on systems without raw access.
func TestRawAccessOnlyOnNonBlockingSockets(t *testing.T) {
	a, _ := tcpPair(t)
	if newSockWriter(a) == nil || newSockReader(a) == nil {
		t.Skip("no direct socket access on this platform")
	}
	rc, err := a.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { err = syscall.SetNonblock(int(fd), false) })
	if err != nil {
		t.Fatal(err)
	}
	if newSockWriter(a) != nil || newSockReader(a) != nil {
		t.Fatal("raw access to a blocking socket")
	}
}
