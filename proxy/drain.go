package proxy

import (
	"context"
	"fmt"
)

// Shutdown stops accepting at once and lets open connections finish. When
// ctx is done the remaining ones are closed with reason drain_timeout and an
// error is returned. It returns after every connection goroutine has exited.
func (t *Tunnel) Shutdown(ctx context.Context) error {
	t.stop()
	done := t.drained()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	n := t.abortAll(reasonDrain)
	<-done
	return fmt.Errorf("tunnel %q: drain: closed %d connections: %w", t.name(), n, ctx.Err())
}

// Close stops accepting and closes every connection now, then waits for
// their goroutines.
func (t *Tunnel) Close() error {
	err := t.stop()
	t.abortAll(reasonShutdown)
	<-t.drained()
	return err
}

// StopAccepting closes the listener now and refuses new connections, while
// open ones keep running; Shutdown or Close then ends them. A reload calls
// it before draining in the background, so that the address is free at once
// for a tunnel that takes it over.
func (t *Tunnel) StopAccepting() error { return t.stop() }

// stop closes the listener once and forbids new registrations.
func (t *Tunnel) stop() error {
	t.stopOnce.Do(func() {
		t.mu.Lock()
		t.stopping = true
		t.mu.Unlock()
		close(t.stopped)
		if err := t.ln.Close(); err != nil {
			t.stopErr = fmt.Errorf("tunnel %q: close listener: %w", t.name(), err)
		}
		t.warn.flush()
	})
	return t.stopErr
}

// drained is closed once every connection goroutine has exited. Call it only
// after stop, so that no wg.Add can race with the Wait.
func (t *Tunnel) drained() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	return done
}

func (t *Tunnel) abortAll(reason string) int {
	t.mu.Lock()
	list := make([]*conn, 0, len(t.conns))
	for c := range t.conns {
		list = append(list, c)
	}
	t.mu.Unlock()
	for _, c := range list {
		c.abort(reason)
	}
	return len(list)
}
