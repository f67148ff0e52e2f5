package daemon

import (
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

// proxy has its own default mode for unix listen sockets, which the admin
// endpoint's socket gets; it must be the one the config documents.
func TestListenModeDefaultsAgree(t *testing.T) {
	if proxy.DefaultListenMode != config.DefaultListenMode {
		t.Fatalf("proxy.DefaultListenMode %04o, config.DefaultListenMode %04o",
			proxy.DefaultListenMode, config.DefaultListenMode)
	}
}
