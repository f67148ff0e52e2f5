package pump

import "sync"

// Write batching: tls.Conn.Write makes one socket write per record, and a
// record holds at most 16 KiB (much less in a connection's first 128 KiB,
// where crypto/tls sizes records to fit one TCP segment). A socket write
// costs a few microseconds however small, so while the pump writes one
// buffer into a tls.Conn over a recordConn, the records are gathered and
// go out in one socket write when tls.Conn.Write returns: one write per
// buffer (64 or 256 KiB) instead of one per 16 KiB. Dynamic record sizing
// can stay on: its small records no longer cost a write each.
//
// Only the pump opens a batch (beginBatch .. endBatch, around one
// tls.Conn.Write). Anything else crypto/tls writes meanwhile (an alert or
// a KeyUpdate answer, from the goroutine reading the other way) joins the
// batch in order, as it would have followed on the socket anyway; outside
// a batch, writes go straight through. A batch that fills up goes out and
// gathering starts over, so no write is ever lost or reordered.

// minBatch: a write this small is one record even in a connection's first
// bytes, and goes straight through.
const minBatch = 1 << 10

// writeBatch is recordConn's write side.
type writeBatch struct {
	mu   sync.Mutex // held across socket writes, which keeps them in order
	open bool
	buf  *[]byte // while open
	n    int
}

// Write is what tls.Conn writes its records with.
func (r *recordConn) Write(p []byte) (int, error) {
	w := &r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.open {
		return r.out.Write(p)
	}
	if w.n+len(p) > len(*w.buf) {
		if err := r.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > len(*w.buf) {
			return r.out.Write(p)
		}
	}
	w.n += copy((*w.buf)[w.n:], p)
	return len(p), nil
}

// beginBatch opens a batch for the records of a Write of n bytes.
func (r *recordConn) beginBatch(n int) {
	w := &r.w
	w.mu.Lock()
	w.open = true
	if w.buf == nil {
		w.buf = getBuf(n + batchSlack)
	}
	w.mu.Unlock()
}

// endBatch writes what was gathered and closes the batch.
func (r *recordConn) endBatch() error {
	w := &r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	err := r.flushLocked()
	w.open = false
	putBuf(w.buf)
	w.buf = nil
	return err
}

func (r *recordConn) flushLocked() error {
	w := &r.w
	if w.n == 0 {
		return nil
	}
	_, err := r.out.Write((*w.buf)[:w.n])
	w.n = 0
	return err
}
