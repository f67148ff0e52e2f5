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
// --state-dir value. It returns, per tunnel of cfg, what the files told
// (see FileFacts), for PlanChecked.
func CheckFiles(cfg *config.Config, stateDir string) ([]FileFacts, error) {
	var errs []error
	opts, err := pkiOptions(slog.New(slog.DiscardHandler), stateDir)
	if err != nil {
		return nil, err
	}
	// A check writes nothing (no state directory, no self-signed
	// certificate) and reads each file once.
	opts.ReadOnly, opts.ReloadInterval = true, -1
	m := pki.NewManager(opts)
	defer m.Close()
	quiet := opts.Logger
	facts := make([]FileFacts, len(cfg.Tunnels))
	for i := range cfg.Tunnels {
		t := &cfg.Tunnels[i]
		built, err := buildTunnel(m, t, quiet)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		facts[i], err = tunnelFacts(m, t, built.id, nil)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return facts, nil
}

// tunnelFacts learns t's FileFacts from its built endpoint e. roots are the
// roots a server certificate should chain to; nil: the system's.
func tunnelFacts(m *pki.Manager, t *config.Tunnel, e *pki.Endpoint, roots rootsFunc) (FileFacts, error) {
	var f FileFacts
	if t.Passphrase.IsSet() {
		// Derived already by the build: the Manager's cache answers.
		ca, err := m.ClusterCA(t.Passphrase.Reveal(), t.Cluster)
		if err != nil {
			return f, err
		}
		f.ClusterCA = ca.Fingerprint()
		for _, p := range t.PreviousPassphrases {
			ca, err := m.ClusterCA(p.Reveal(), t.Cluster)
			if err != nil {
				return f, err
			}
			f.PreviousCAs = append(f.PreviousCAs, ca.Fingerprint())
		}
	}
	if w := chainWarning(t, e, roots); w != "" {
		f.Warnings = append(f.Warnings, w)
	}
	return f, nil
}
