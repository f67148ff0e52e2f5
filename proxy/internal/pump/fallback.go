package pump

import "crypto/tls"

// The fallbacks of the pump, for sources that are not sockets sockReader
// can read (connections that are not TCP or unix sockets, platforms without
// direct reads): they block in Read, holding a buffer while they wait.

// tlsProbeSize is the buffer copyTLS keeps for good: an idle connection
// costs this much instead of a bulk buffer.
const tlsProbeSize = 1 << 10

// copyPlain is the fallback for connections that are not sockets: it
// blocks in Read holding a pool buffer.
func (d *direction) copyPlain() error {
	for {
		if err := d.withBuf(func(buf []byte) error { return d.burst(buf) }); err != nil {
			return err
		}
	}
}

// burst forwards until a read returns less than a full buffer, which means
// the socket had nothing more queued when it was read.
func (d *direction) burst(buf []byte) error {
	for {
		n, err := d.src.Read(buf)
		if werr := d.write(buf[:n]); werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
		if n < len(buf) {
			return nil
		}
	}
}

// copyTLS reads a TLS source that has no recordConn under it, whose
// decrypted-but-unread bytes are invisible from outside. Waiting on the raw
// socket could therefore deadlock, so it always reads, first into a small
// buffer kept for the connection's life. Only when that read fills the
// buffer does it switch to a pool buffer.
func (d *direction) copyTLS(src *tls.Conn) error {
	probe := make([]byte, tlsProbeSize)
	for {
		n, err := src.Read(probe)
		if werr := d.write(probe[:n]); werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
		if n == len(probe) {
			if err := d.withBuf(func(buf []byte) error { return d.tlsBurst(src, buf, n) }); err != nil {
				return err
			}
		}
	}
}

// tlsBurst forwards the rest of the record whose first head bytes were just
// forwarded, and keeps going while full records arrive. tls.Conn.Read with a
// buffer of at least maxTLSRecord returns everything left of the current
// record, so each such read ends on a record boundary and the record's size
// is visible here. Whatever the heuristic guesses, every read either returns
// buffered bytes or blocks for new ones, so nothing is lost or stuck.
func (d *direction) tlsBurst(src *tls.Conn, buf []byte, head int) error {
	record := head
	for {
		n, err := src.Read(buf)
		if werr := d.write(buf[:n]); werr != nil {
			return werr
		}
		if err != nil {
			return err
		}
		if record+n < maxTLSRecord {
			return nil
		}
		record = 0
	}
}

func (d *direction) withBuf(f func([]byte) error) error {
	bp := getBuf(bulkBufSize)
	defer putBuf(bp)
	return f(*bp)
}
