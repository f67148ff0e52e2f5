package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// measureSidecar is the memory of an idle passtunnel sidecar, one tunnel
// and nothing connected, for each identity source: 5 s after start, and 5
// s after a reload that rebuilds the tunnel (a passphrase rotation for the
// passphrase source, which derives two CAs). passtunnel only (and
// -baseline): the other proxies have no passphrase to compare.
const measureSidecar = "sidecar"

// sidecarSettle is how long after start (or reload) the memory is read.
const sidecarSettle = 5 * time.Second

var sidecarSources = []string{"files", "self-signed", "passphrase"}

var sidecarColumns = []column{
	{"rss", "VmRSS MB", true},
	{"anon", "RssAnon MB", true},
	{"file", "RssFile MB", true},
	{"rssReload", "VmRSS MB after reload", true},
	{"anonReload", "RssAnon MB after reload", true},
}

// compareSidecar measures every passtunnel binary with every source, run
// after run, and prints the table.
func (h *harness) compareSidecar(runs int) error {
	if h.measuresProxies() || h.measure[measureTransparent] {
		fmt.Println()
	}
	kinds := []string{kindPasstunnel}
	if h.baseline != "" {
		kinds = append(kinds, kindBaseline)
	}
	if _, err := h.findBins(kinds); err != nil {
		return err
	}
	if h.certs.ca == "" {
		if err := h.makeCerts(); err != nil {
			return err
		}
	}
	var rows []string
	for _, k := range kinds {
		for _, s := range sidecarSources {
			rows = append(rows, k+" "+s)
		}
	}
	res := newResults(rows)
	for run := 1; run <= runs; run++ {
		for _, k := range kinds {
			for _, s := range sidecarSources {
				h.logf("run %d/%d: idle sidecar, %s", run, runs, k+" "+s)
				if err := h.sidecarRun(k, s, res); err != nil {
					res.note(k+" "+s, err.Error())
				}
			}
		}
	}
	h.printSidecar(os.Stdout, res, runs)
	return nil
}

// sidecarRun starts one sidecar of kind with source, reads its memory,
// reloads it and reads again.
func (h *harness) sidecarRun(kind, source string, res *results) error {
	h.seq++
	dir := filepath.Join(h.dir, fmt.Sprintf("sidecar-%03d", h.seq))
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		return err
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	cfg := filepath.Join(dir, "passtunnel.hcl")
	s := sidecarSetup{dir: dir, listen: ports[0], target: "127.0.0.1:9", source: source, certs: h.certs}
	if err := s.write(cfg, false); err != nil {
		return err
	}
	c, err := startChild(kind+"-sidecar", h.bins[kind], []string{"run", "-state-dir", filepath.Join(dir, "state"), cfg},
		filepath.Join(h.dir, "logs", fmt.Sprintf("sidecar-%03d.log", h.seq)), nil)
	if err != nil {
		return err
	}
	defer c.stop()
	row := kind + " " + source
	start := time.Now()
	if err := waitLog(c, "tunnel listening", 60*time.Second); err != nil {
		return err
	}
	if err := h.readSidecar(c, start, row, "rss", "anon", "file", res); err != nil {
		return err
	}
	if err := s.write(cfg, true); err != nil {
		return err
	}
	reload := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return err
	}
	if err := waitLog(c, "config reloaded", 60*time.Second); err != nil {
		return err
	}
	return h.readSidecar(c, reload, row, "rssReload", "anonReload", "", res)
}

// readSidecar waits until sidecarSettle after since, then adds the
// process's VmRSS, RssAnon and RssFile (in MB) under the keys given.
func (h *harness) readSidecar(c *child, since time.Time, row, rss, anon, file string, res *results) error {
	time.Sleep(time.Until(since.Add(sidecarSettle)))
	st, err := procStatusKB(c.pid())
	if err != nil {
		return err
	}
	for key, field := range map[string]string{rss: "VmRSS", anon: "RssAnon", file: "RssFile"} {
		if key != "" {
			res.add(row, key, st[field]*1024/1e6, nil)
		}
	}
	return nil
}

// sidecarSetup writes one idle sidecar's config and secrets.
type sidecarSetup struct {
	dir, listen, target, source string
	certs                       certFiles
}

// write writes the config; reloaded changes the tunnel so that a reload
// rebuilds it: a rotated passphrase (the old one kept as previous), or
// another connection limit.
func (s sidecarSetup) write(path string, reloaded bool) error {
	limit := 1000
	if reloaded {
		limit = 2000
	}
	var identity string
	switch s.source {
	case "files":
		identity = fmt.Sprintf("  tls {\n    cert = %q\n    key = %q\n    ca = %q\n    client_auth = \"require\"\n  }\n",
			s.certs.srvCert, s.certs.srvKey, s.certs.ca)
	case "self-signed":
		identity = "  tls {\n    self_signed = true\n    client_auth = \"none\"\n  }\n"
	case "passphrase":
		var err error
		if identity, err = s.passphrase(reloaded); err != nil {
			return err
		}
	}
	text := fmt.Sprintf("tunnel \"idle\" {\n  mode = \"server\"\n  listen = %q\n  target = %q\n%s  limits {\n    max_connections = %d\n  }\n}\n",
		s.listen, s.target, identity, limit)
	return os.WriteFile(path, []byte(text), 0o600)
}

// passphrase writes a random passphrase (a second one when rotated) and
// returns the config lines that use them.
func (s sidecarSetup) passphrase(rotated bool) (string, error) {
	files := []string{filepath.Join(s.dir, "pass-1"), filepath.Join(s.dir, "pass-2")}
	n := 1
	if rotated {
		n = 2
	}
	if _, err := os.Stat(files[n-1]); err != nil {
		if err := os.WriteFile(files[n-1], []byte(randomPassphrase()), 0o600); err != nil {
			return "", err
		}
	}
	lines := fmt.Sprintf("  cluster = \"c-bench-sidecar\"\n  passphrase = file(%q)\n", files[n-1])
	if rotated {
		lines += fmt.Sprintf("  previous_passphrases = [file(%q)]\n", files[0])
	}
	return lines, nil
}

// randomPassphrase is 32 random base32 characters (160 bits) in groups of
// four, as `passtunnel pki passphrase` prints them.
func randomPassphrase() string {
	chars := strings.ToLower(rand.Text() + rand.Text())[:32]
	var groups []string
	for i := 0; i < len(chars); i += 4 {
		groups = append(groups, chars[i:i+4])
	}
	return strings.Join(groups, "-")
}

// printSidecar writes the table and what was measured.
func (h *harness) printSidecar(w io.Writer, res *results, runs int) {
	fmt.Fprintln(w, "Idle sidecar memory by identity source")
	fmt.Fprintln(w)
	res.table(w, "binary, identity", sidecarColumns)
	fmt.Fprintf(w, "\nMedian of %d run(s). One server tunnel, nothing connected; read from /proc/PID/status %v after "+
		"start (once the tunnel listens) and %v after a SIGHUP that rebuilds it (the passphrase rotated to a new one with the "+
		"old one in previous_passphrases, two Argon2id derivations; the other sources a new connection limit). "+
		"VmRSS = RssAnon (heap, stacks: the process's own) + RssFile (the binary's pages, page cache that "+
		"processes of the same binary share) + RssShmem; MB are 10^6 bytes.\n", runs, sidecarSettle, sidecarSettle)
	for _, k := range res.kinds {
		for _, n := range res.notes[k] {
			fmt.Fprintf(w, "- %s: %s\n", k, n)
		}
	}
}
