package daemon

import (
	"testing"

	"github.com/passtunnel/passtunnel/internal/testfs"
)

func TestMain(m *testing.M) { testfs.Main(m) }
