package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// spiffeWatch follows one Workload API: the X.509-SVID and bundles it last
// pushed, and the last error, for handshakes and readiness to read.
type spiffeWatch struct {
	addr   string
	tunnel string
	log    *slog.Logger
	client *workloadapi.Client
	cancel context.CancelFunc
	done   chan struct{} // closed when the watch goroutine ended

	state   atomic.Pointer[spiffeState]
	lastErr atomic.Pointer[error]
	first   chan struct{} // closed at the first answer, SVID or error
	once    sync.Once
}

// spiffeState is one push of the agent.
type spiffeState struct {
	own     *tls.Certificate // the default (first) SVID, Leaf set
	bundles *x509bundle.Set
	// key stands for bundles in the verify cache: a new one per push,
	// so chains verified against replaced bundles are not reused.
	key *x509.CertPool
}

// startSPIFFEWatch dials addr (lazily: an agent not there yet is retried
// with go-spiffe's backoff) and watches its X.509 contexts until stop.
func startSPIFFEWatch(addr, tunnel string, log *slog.Logger) (*spiffeWatch, error) {
	ctx, cancel := context.WithCancel(context.Background())
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(addr))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("SPIFFE Workload API %s: %w", addr, err)
	}
	w := &spiffeWatch{addr: addr, tunnel: tunnel, log: log, client: client, cancel: cancel,
		done: make(chan struct{}), first: make(chan struct{})}
	go func() {
		defer close(w.done)
		_ = client.WatchX509Context(ctx, w) // returns when ctx ends, or on InvalidArgument (reported to w)
	}()
	return w, nil
}

// waitFirst waits for the first answer of the agent, at most d.
func (w *spiffeWatch) waitFirst(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.first:
	case <-t.C:
		w.log.Warn("SPIFFE Workload API has not answered yet; the tunnel is not ready until it sends an SVID",
			"tunnel", w.tunnel, "socket", w.addr)
	}
}

// stop ends the watch and closes the connection to the agent.
func (w *spiffeWatch) stop() {
	w.cancel()
	<-w.done
	_ = w.client.Close()
}

// OnX509ContextUpdate takes a push of the agent: from now on handshakes
// present its SVID and verify peers against its bundles.
func (w *spiffeWatch) OnX509ContextUpdate(c *workloadapi.X509Context) {
	svid := c.DefaultSVID()
	own := &tls.Certificate{PrivateKey: svid.PrivateKey, Leaf: svid.Certificates[0]}
	for _, cert := range svid.Certificates {
		own.Certificate = append(own.Certificate, cert.Raw)
	}
	w.state.Store(&spiffeState{own: own, bundles: c.Bundles, key: x509.NewCertPool()})
	w.lastErr.Store(nil)
	leaf := own.Leaf
	w.log.Info("SPIFFE SVID received", "tunnel", w.tunnel, "socket", w.addr, "spiffe_id", svid.ID.String(),
		"serial", leaf.SerialNumber.Text(16), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339),
		"trust_domains", c.Bundles.Len())
	w.once.Do(func() { close(w.first) })
}

// OnX509ContextWatchError records why the agent could not be reached or
// sent something unusable; the last SVID stays in use (go-spiffe retries).
func (w *spiffeWatch) OnX509ContextWatchError(err error) {
	w.lastErr.Store(&err)
	w.log.Warn("SPIFFE Workload API watch failed; retrying", "tunnel", w.tunnel, "socket", w.addr, "error", err)
	w.once.Do(func() { close(w.first) })
}

// current is the agent's last push, or why there is none yet.
func (w *spiffeWatch) current() (*spiffeState, error) {
	if st := w.state.Load(); st != nil {
		return st, nil
	}
	why := "no answer yet"
	if e := w.lastErr.Load(); e != nil {
		why = (*e).Error()
	}
	return nil, fmt.Errorf("no X.509-SVID from the SPIFFE Workload API at %s yet: %s", w.addr, why)
}

// own is the SVID presented now.
func (w *spiffeWatch) own() (*tls.Certificate, error) {
	st, err := w.current()
	if err != nil {
		return nil, err
	}
	return st.own, nil
}
