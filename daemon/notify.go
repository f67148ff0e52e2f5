package daemon

import (
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// notifier tells the service manager what the process is doing: systemd's
// Type=notify protocol. Fleet code calls it at each change of state and
// does not know whether anyone listens.
type notifier interface {
	Ready(status string) // every tunnel listens (again, after a reload)
	Reloading()          // a reload starts
	Stopping()           // the drain starts
	Status(text string)  // a line for `systemctl status`
	// Watchdog ticks at half the interval systemd's WatchdogSec= asks
	// for, nil (never) without it; Alive answers a tick.
	Watchdog() <-chan time.Time
	Alive()
	Close()
}

// sdNotifier speaks to $NOTIFY_SOCKET; without it every call is a no-op.
type sdNotifier struct {
	log  *slog.Logger
	tick *time.Ticker // nil: no watchdog
}

// newNotifier reads the environment systemd sets for the service. The
// watchdog is answered from the fleet's own loop (Fleet.wait), not from a
// goroutine of its own, so that a loop stuck for good stops the pings and
// systemd restarts the service.
func newNotifier(log *slog.Logger) notifier {
	n := &sdNotifier{log: log}
	interval, err := sd.SdWatchdogEnabled(false) // 0 when WATCHDOG_PID names another process
	if err != nil {
		log.Warn("watchdog not answered", "error", err)
	}
	if interval > 0 {
		n.tick = time.NewTicker(interval / 2)
	}
	return n
}

func (n *sdNotifier) send(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		n.log.Warn("notifying systemd", "state", state, "error", err)
	}
}

func (n *sdNotifier) Ready(status string) {
	state := sd.SdNotifyReady
	if status != "" {
		state += "\nSTATUS=" + status
	}
	n.send(state)
}

// Reloading sends the time the reload starts, which systemd (253 and
// later) needs to tell this reload's READY=1 from an earlier one.
func (n *sdNotifier) Reloading() { n.send(sd.SdNotifyReloading + "\n" + sd.SdNotifyMonotonicUsec()) }

func (n *sdNotifier) Stopping()          { n.send(sd.SdNotifyStopping) }
func (n *sdNotifier) Status(text string) { n.send("STATUS=" + text) }
func (n *sdNotifier) Alive()             { n.send(sd.SdNotifyWatchdog) }

func (n *sdNotifier) Watchdog() <-chan time.Time {
	if n.tick == nil {
		return nil
	}
	return n.tick.C
}

func (n *sdNotifier) Close() {
	if n.tick != nil {
		n.tick.Stop()
	}
}
