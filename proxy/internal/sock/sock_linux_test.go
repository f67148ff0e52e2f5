package sock

import (
	"os"
	"path/filepath"
	"testing"
)

// On Linux the socket file never has more than its mode, not even between
// bind and the chmod after it: bind alone, with the umask of the test
// (0022 or tighter), already gives no bit beyond 0600. A plain bind would
// give 0777 less the umask.
func TestBindUnixPresetsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.sock")
	ln, err := ListenUnix(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got&^0o600 != 0 {
		t.Errorf("socket mode right after bind %04o, want nothing beyond 0600", got)
	}
}
