package daemon

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/filewatch"
)

// reloadStats counts reloads by result, for the metrics endpoint.
type reloadStats struct {
	succeeded atomic.Int64 // applied in full
	partial   atomic.Int64 // applied, but some tunnel could not listen
	refused   atomic.Int64 // bad config or certificate: nothing changed
}

// reload loads the config file again and applies what changed: tunnels
// added, removed or changed, without touching the unchanged ones. A config
// that does not load, or a tunnel whose TLS config cannot be built, refuses
// the whole reload before anything changes, and the running config stays.
func (f *Fleet) reload(trigger string) {
	if f.cfg == nil || f.cfg.File == "" {
		f.log.Info("reload requested, but this process has no config file: nothing to reload",
			"trigger", trigger)
		return
	}
	f.log.Info("reloading config", "trigger", trigger, "file", f.cfg.File)
	f.notify.Reloading()
	defer f.notify.Ready("") // refuse or reported sent the status line
	cfg, err := f.load(f.cfg.File)
	if err == nil {
		err = f.sandbox.admit(cfg)
	}
	if err != nil {
		f.refuse(trigger, f.sandbox.explain(err))
		return
	}
	plan := planReload(f.runningConfigs(), cfg.Tunnels)
	built, err := f.buildAll(slices.Concat(plan.added, plan.changed))
	if err != nil {
		for _, b := range built {
			b.id.Release()
		}
		f.refuse(trigger, f.sandbox.explain(err))
		return
	}
	failed := f.apply(cfg, plan, built)
	f.cfg = cfg
	f.publish()
	if err := f.admin.apply(cfg.Admin); err != nil {
		f.log.Error("admin endpoint not moved; it stays where it was", "error", err)
		failed++
	}
	f.reported(trigger, plan, failed)
	// The new level applies after the result line, so that turning logs
	// down to "error" still shows the reload that did it.
	f.applyLogSettings(cfg)
	// The load's garbage and what the replaced tunnels held go back to
	// the system now rather than whenever the heap next grows: an idle
	// sidecar keeps its footprint across reloads.
	f.trim.request()
}

// reported counts a reload that was applied and logs its result.
func (f *Fleet) reported(trigger string, plan reloadPlan, failed int) {
	args := []any{"trigger", trigger, "added", len(plan.added), "removed", len(plan.removed),
		"changed", len(plan.changed), "unchanged", len(plan.unchanged)}
	if failed > 0 {
		f.reloads.partial.Add(1)
		f.log.Warn("config reloaded", append(args, "failed", failed)...)
		f.notify.Status(fmt.Sprintf("%d tunnels; config reloaded (%s), %d failed: see the log", len(f.tunnels), trigger, failed))
		return
	}
	f.reloads.succeeded.Add(1)
	f.notify.Status(fmt.Sprintf("%d tunnels; config reloaded (%s)", len(f.tunnels), trigger))
	f.log.Info("config reloaded", args...)
}

// load reads the config again and points the file watcher at what it read.
// Digests are taken before the load, so that an edit racing with it makes
// the watcher reload once more instead of being missed.
func (f *Fleet) load(path string) (*config.Config, error) {
	before := filewatch.SumAll(append(f.watch.paths(), path))
	cfg, err := f.loader.Load(path)
	deps := f.watch.paths() // a config that does not load keeps the files it had
	if err == nil {
		deps = append([]string{path}, cfg.Files...)
	}
	// Even a refused config becomes the one watched: the watcher then waits
	// for the next edit instead of retrying the broken file forever.
	f.watch.track(deps, before)
	return cfg, err
}

func (f *Fleet) refuse(trigger string, err error) {
	f.reloads.refused.Add(1)
	f.log.Error("config reload refused", "trigger", trigger, "error", err.Error())
	// One line: a newline would end the status and start another field.
	f.notify.Status(fmt.Sprintf("%d tunnels; config reload (%s) refused: %s", len(f.tunnels), trigger,
		strings.ReplaceAll(err.Error(), "\n", "; ")))
}

func (f *Fleet) runningConfigs() []*config.Tunnel {
	out := make([]*config.Tunnel, len(f.tunnels))
	for i, t := range f.tunnels {
		out[i] = t.cfg
	}
	return out
}

// buildAll builds the TLS config of every tunnel to start or change, all of
// them before any is touched: one bad certificate refuses the whole reload.
func (f *Fleet) buildAll(ts []*config.Tunnel) (map[string]builtTunnel, error) {
	built := make(map[string]builtTunnel, len(ts))
	var errs []error
	for _, t := range ts {
		b, err := f.build(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		built[t.Name] = b
	}
	return built, errors.Join(errs...)
}

// applyLogSettings applies log_level at once. The log format is part of the
// handler every component already holds, so it changes only on restart.
func (f *Fleet) applyLogSettings(cfg *config.Config) {
	if cfg.LogFormat != f.format {
		f.log.Warn("log_format changes apply after a restart", "running", f.format, "configured", cfg.LogFormat)
	}
	f.level.Set(parseLevel(cfg.LogLevel))
}

// watchConfig starts watching the config file and every file() it read. A
// watcher that cannot start (no inotify instances left) leaves SIGHUP.
func (f *Fleet) watchConfig() {
	if f.cfg.File == "" {
		return
	}
	w, err := newFileWatcher(f.log)
	if err != nil {
		f.log.Warn("config files are not watched; reload with SIGHUP", "error", err)
		return
	}
	w.track(append([]string{f.cfg.File}, f.cfg.Files...), nil)
	f.watch = w
}
