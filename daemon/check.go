package daemon

import (
	"errors"
	"log/slog"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// CheckFiles builds every tunnel of cfg as a start would, without binding
// anything: it loads every certificate, key and CA file, so that a missing
// or mismatched file is found before a deploy, not after. stateDir is the
// --state-dir value.
func CheckFiles(cfg *config.Config, stateDir string) error {
	var errs []error
	opts, err := pkiOptions(slog.New(slog.DiscardHandler), stateDir)
	if err != nil {
		return err
	}
	// A check writes nothing (no state directory, no self-signed
	// certificate) and reads each file once.
	opts.ReadOnly, opts.ReloadInterval = true, -1
	m := pki.NewManager(opts)
	defer m.Close()
	quiet := opts.Logger
	for i := range cfg.Tunnels {
		if _, err := buildTunnel(m, &cfg.Tunnels[i], quiet); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}
