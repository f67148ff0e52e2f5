package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// logLine is one JSON line of the daemon's log.
type logLine map[string]any

func (l logLine) str(key string) string {
	s, _ := l[key].(string)
	return s
}

// waitLog polls the log until a line matches, the daemon exits, or the
// bound runs out.
func (d *daemon) waitLog(what string, match func(logLine) bool) (logLine, error) {
	deadline := time.Now().Add(startTimeout)
	for {
		if l, ok := d.findLog(match); ok {
			return l, nil
		}
		if d.exited() {
			return nil, fmt.Errorf("passtunnel exited (%v) before %s: %s", d.waitErr, what, d.logTail())
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("passtunnel: no %s after %v: %s", what, startTimeout, d.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemon) findLog(match func(logLine) bool) (logLine, bool) {
	f, err := os.Open(d.logPath)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && match(l) {
			return l, true
		}
	}
	return nil, false
}

// listenAddr waits for the address a tunnel reports it bound.
func (d *daemon) listenAddr(tunnel string) (string, error) {
	l, err := d.waitLog(fmt.Sprintf("tunnel %q listening", tunnel), func(l logLine) bool {
		return l.str("msg") == "tunnel listening" && l.str("tunnel") == tunnel
	})
	if err != nil {
		return "", err
	}
	return l.str("listen"), nil
}

// updatedTo waits until a reload has pointed tunnel at target, and
// returns the address the tunnel listens on.
func (d *daemon) updatedTo(tunnel, target string) (string, error) {
	l, err := d.waitLog(fmt.Sprintf("tunnel %q updated to target %s", tunnel, target), func(l logLine) bool {
		return l.str("msg") == "tunnel updated" && l.str("tunnel") == tunnel && l.str("target") == target
	})
	if err != nil {
		return "", err
	}
	return l.str("listen"), nil
}

// adminAddr waits for the admin endpoint's address.
func (d *daemon) adminAddr() (string, error) {
	l, err := d.waitLog("admin endpoint", func(l logLine) bool { return l.str("msg") == "admin listening" })
	if err != nil {
		return "", err
	}
	return l.str("listen"), nil
}

// logTail is the end of the log, for error messages.
func (d *daemon) logTail() string {
	b, _ := os.ReadFile(d.logPath)
	s := strings.TrimSpace(string(b))
	if len(s) > 1500 {
		s = "..." + s[len(s)-1500:]
	}
	return s
}

// logFindings reads the whole log once the load is over: the ERROR lines
// by message, and the first lines that are not JSON (a panic or a fatal
// runtime error writes those), "" if there are none.
func (d *daemon) logFindings() (errs map[string]int, crash string, err error) {
	f, err := os.Open(d.logPath)
	if err != nil {
		return nil, "", fmt.Errorf("daemon log: %w", err)
	}
	defer f.Close()
	errs = map[string]int{}
	var odd []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			if len(odd) < 10 {
				odd = append(odd, sc.Text())
			}
			continue
		}
		if l.str("level") == "ERROR" {
			errs[l.str("msg")]++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, "", fmt.Errorf("daemon log: %w", err)
	}
	return errs, strings.Join(odd, "\n"), nil
}
