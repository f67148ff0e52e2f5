package filewatch

import (
	"os"
	"testing"

	"github.com/passtunnel/passtunnel/internal/testfs"
)

// TestMain runs the package's tests under a umask of 022 (see
// testfs.StrictUmask).
func TestMain(m *testing.M) {
	testfs.StrictUmask()
	os.Exit(m.Run())
}
