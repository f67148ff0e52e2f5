package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/proxy"
)

const (
	// adminShutdownTimeout bounds how long a scrape in progress may hold up
	// a rebind or the exit.
	adminShutdownTimeout = 5 * time.Second
	// adminMaxScrapes bounds concurrent /metrics requests: a scrape walks
	// every tunnel, and the port may be reachable by more than Prometheus.
	adminMaxScrapes = 4
)

// admin serves /metrics, /healthz and /readyz on the `admin` address. Only
// the goroutine that owns the fleet calls apply and close, so the server
// needs no lock; the handlers read the fleet through its published view.
type admin struct {
	log     *slog.Logger
	handler http.Handler

	addr config.Address // what srv is bound to as configured; zero when off
	srv  *http.Server
	done chan struct{} // closed when srv's Serve returned
}

func newAdmin(f *Fleet) *admin {
	reg := prometheus.NewRegistry() // private: no global state, no default collectors by surprise
	reg.MustRegister(newCollector(f), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		prometheus.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(f.log.Handler(), slog.LevelError),
		MaxRequestsInFlight: adminMaxScrapes,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// Alive: this process answers. Whether it serves is /readyz.
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if problems := f.notReady(time.Now()); len(problems) > 0 {
			writeText(w, http.StatusServiceUnavailable, problemsText(problems))
			return
		}
		writeText(w, http.StatusOK, "ready\n")
	})
	return &admin{log: f.log, handler: mux}
}

// startAdmin starts the admin endpoint before any tunnel: /healthz answers
// and /readyz says "starting" while tunnels derive keys or bind.
func (f *Fleet) startAdmin(addr *config.Address) error {
	f.admin = newAdmin(f)
	return f.admin.apply(addr)
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprint(w, body)
}

// apply makes the admin endpoint match addr (nil: off). A new address is
// bound before the old one is let go, so a failed bind on reload keeps the
// endpoint where it was; the error says why, and the caller counts the
// reload as partial.
func (a *admin) apply(addr *config.Address) error {
	if a == nil {
		return nil
	}
	var want config.Address
	if addr != nil {
		want = *addr
	}
	if want == a.addr {
		return nil
	}
	if want == (config.Address{}) {
		a.log.Info("admin endpoint stopped", "listen", a.addr.String())
		a.close()
		return nil
	}
	ln, err := proxy.ListenAddress(proxyAddress(want))
	if err != nil {
		return fmt.Errorf("admin: listen on %s: %w", want, err)
	}
	a.close()
	a.serve(ln, want)
	return nil
}

func (a *admin) serve(ln net.Listener, addr config.Address) {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		// Malformed requests from scanners are not worth a line each.
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("admin endpoint stopped", "error", err)
		}
	}()
	a.addr, a.srv, a.done = addr, srv, done
	bound := ln.Addr().String()
	if addr.Network == config.NetUnix {
		bound = "unix:" + bound
	}
	a.log.Info("admin listening", "listen", bound, "paths", "/metrics /healthz /readyz")
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		a.log.Warn("admin endpoint is reachable beyond this host: its metrics show tunnel traffic, "+
			"refusals and certificate dates; bind it to loopback or a unix socket, or firewall it",
			"listen", bound)
	}
}

// close stops the server, letting a scrape in progress finish within
// adminShutdownTimeout.
func (a *admin) close() {
	if a == nil || a.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminShutdownTimeout)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		_ = a.srv.Close()
	}
	<-a.done
	a.addr, a.srv, a.done = config.Address{}, nil, nil
}
