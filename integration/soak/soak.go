package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// options are the command line's settings.
type options struct {
	duration, warmup, reload time.Duration
	conns                    int
	seed                     uint64
	bin                      string // "" builds one from the module
	maxSize                  int64  // largest request or reply of a transfer
	verbose, keep            bool
	gcWait                   bool // read RSS only after the daemon's next garbage collection
}

// soak is one run: its work directory, the daemon and the in-process
// peers around it.
type soak struct {
	opt      options
	progress io.Writer
	dir      string
	ids      *identities
	cfg      *daemonConfig
	cfgPath  string
	daemon   *daemon
	backend  *backend
	refused  *refusedTarget
	scraper  *scraper
	tally    *tally
	reports  *reports
	addrs    addrs
	reloader *reloader
}

// setup makes the work directory, certificates, backend and config, and
// starts the daemon; once the server tunnels' ports are known, a reload
// points the client tunnels at them.
func setup(ctx context.Context, opt options, progress io.Writer) (*soak, error) {
	s := &soak{opt: opt, progress: progress, tally: newTally(progress), reports: newReports()}
	var err error
	if s.dir, err = os.MkdirTemp("", "passtunnel-soak-"); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	if err := s.prepare(ctx); err != nil {
		return s, err
	}
	if err := s.startDaemon(ctx); err != nil {
		return s, err
	}
	s.logf("passtunnel pid %d, admin %s, client tunnel %s, server tunnel %s",
		s.daemon.pid(), strings.TrimPrefix(s.scraper.url, "http://"), s.addrs.client, s.addrs.server)
	return s, nil
}

// prepare builds or finds the binary, issues the certificates and starts
// the backend and the refusing target.
func (s *soak) prepare(ctx context.Context) error {
	var err error
	if s.opt.bin == "" {
		s.logf("building passtunnel")
		if s.opt.bin, err = buildBinary(ctx, s.dir); err != nil {
			return err
		}
	}
	if s.ids, err = newIdentities(s.dir); err != nil {
		return err
	}
	if s.backend, err = startBackend(s.reports, s.tally); err != nil {
		return err
	}
	if s.refused, err = newRefusedTarget(); err != nil {
		return err
	}
	confDir := filepath.Join(s.dir, "config")
	if err := os.Mkdir(confDir, 0o700); err != nil {
		return fmt.Errorf("config directory: %w", err)
	}
	s.cfgPath = filepath.Join(confDir, "passtunnel.hcl")
	s.cfg = &daemonConfig{ids: s.ids, backend: s.backend.addr(), refused: s.refused.addr}
	return s.cfg.write(s.cfgPath)
}

// startDaemon runs the daemon and learns every address it bound. Its log
// sits outside the config's directory, which the daemon watches.
func (s *soak) startDaemon(ctx context.Context) error {
	var err error
	if s.daemon, err = startDaemon(s.opt.bin, s.cfgPath, filepath.Join(s.dir, "passtunnel.log")); err != nil {
		return err
	}
	admin, err := s.daemon.adminAddr()
	if err != nil {
		return err
	}
	s.scraper = newScraper(admin)
	if s.cfg.server, err = s.daemon.listenAddr(tunServer); err != nil {
		return err
	}
	if s.cfg.serverDown, err = s.daemon.listenAddr(tunServerDown); err != nil {
		return err
	}
	if err := s.cfg.write(s.cfgPath); err != nil {
		return err
	}
	if err := s.daemon.reload(); err != nil {
		return err
	}
	s.addrs.server = s.cfg.server
	if s.addrs.client, err = s.daemon.updatedTo(tunClient, s.cfg.server); err != nil {
		return err
	}
	if s.addrs.clientDown, err = s.daemon.updatedTo(tunClientDown, s.cfg.serverDown); err != nil {
		return err
	}
	return s.quieten(ctx)
}

// quieten turns the daemon's log level to warn and waits until a reload
// has applied it: the load must not start before.
func (s *soak) quieten(ctx context.Context) error {
	before, err := s.scraper.scrape(ctx)
	if err != nil {
		return err
	}
	s.cfg.quiet = true
	if err := s.cfg.write(s.cfgPath); err != nil {
		return err
	}
	if err := s.daemon.reload(); err != nil {
		return err
	}
	done := before.sum("passtunnel_config_reloads_total", "result", "ok")
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		m, err := s.scraper.scrape(ctx)
		if err != nil {
			return err
		}
		if m.sum("passtunnel_config_reloads_total", "result", "ok") > done {
			return nil
		}
	}
	return fmt.Errorf("passtunnel did not reload its config within %v: %s", startTimeout, s.daemon.logTail())
}

// close stops the daemon and the peers and removes the work directory
// (kept with -keep).
func (s *soak) close() {
	if s.daemon != nil {
		s.daemon.stop()
	}
	if s.backend != nil {
		s.backend.close()
	}
	if s.refused != nil {
		s.refused.close()
	}
	if s.opt.keep {
		s.logf("work directory kept: %s", s.dir)
		return
	}
	os.RemoveAll(s.dir)
}

func (s *soak) logf(format string, args ...any) {
	fmt.Fprintf(s.progress, "soak: "+format+"\n", args...)
}

// loadFor runs the load and the reloads for d (or until ctx is done), and
// waits for the load to finish what it had in flight.
func (s *soak) loadFor(ctx context.Context, l *load, d time.Duration) error {
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	var reloadErr error
	wg.Go(func() {
		if reloadErr = s.reloader.run(lctx); reloadErr != nil {
			cancel()
		}
	})
	if s.opt.verbose {
		wg.Go(func() { s.reportProgress(lctx) })
	}
	l.run(lctx)
	cancel()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return reloadErr
}

// reportProgress prints a line every 10 s while the load runs (-v).
func (s *soak) reportProgress(ctx context.Context) {
	for sleepCtx(ctx, 10*time.Second); ctx.Err() == nil; sleepCtx(ctx, 10*time.Second) {
		t := s.tally.snapshot()
		line := fmt.Sprintf("%d connections, %s checked, %d lost, %d corrupted, %d injected faults, %d unexpected failures, %d reloads",
			t.totalConns(), mib(float64(t.checked)), t.lost, t.corrupted, sum(t.expected), t.totalUnexpected(), s.reloader.ticks.Load())
		if r, err := readResources(ctx, s.scraper, s.daemon.pid()); err == nil {
			line += fmt.Sprintf("; daemon: %d connections, %.0f goroutines, %.0f fds, RSS %s",
				int(r.active), r.goroutines, r.fds, mib(r.rss))
		}
		s.logf("%v: %s", time.Since(s.tally.start).Round(time.Second), line)
	}
}
