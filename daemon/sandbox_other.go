//go:build !linux

package daemon

import (
	"log/slog"

	"github.com/passtunnel/passtunnel/config"
)

// enterSandbox does nothing: Landlock is Linux's.
func enterSandbox(log *slog.Logger, _ *config.Config, _ string) (*sandbox, error) {
	log.Info("sandbox: not available on this system; the process is not restricted")
	return nil, nil
}
