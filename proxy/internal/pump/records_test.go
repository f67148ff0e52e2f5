package pump

import (
	"bytes"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// captureConn passes writes through, or keeps them while capturing.
type captureConn struct {
	net.Conn
	mu        sync.Mutex
	capturing bool
	kept      bytes.Buffer
}

func (c *captureConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.capturing {
		return c.kept.Write(p)
	}
	return c.Conn.Write(p)
}

// recordPump is a server-side tls.Conn over a recordConn whose plaintext a
// direction copies to out; records lets a test send the ciphertext of
// chosen plaintexts in pieces of its choosing.
type recordPump struct {
	raw net.Conn // the client's socket
	out net.Conn // where the plaintext comes out
	cli *tls.Conn
	cc  *captureConn
}

func newRecordPump(t *testing.T) *recordPump {
	p := pkitest.NewPKI(t)
	a, b := tcpPair(t)
	rc := Records(b, nil)
	if rc == nil {
		t.Skip("no recordConn on this platform")
	}
	srv := tls.Server(rc, p.ServerTLS(t))
	cc := &captureConn{Conn: a}
	cli := tls.Client(cc, p.ClientTLS(t))
	done := make(chan error, 1)
	go func() { done <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	dst, out := tcpPair(t)
	d := &direction{src: srv, dst: dst, total: new(atomic.Uint64)}
	ran := make(chan error, 1)
	go func() {
		err := d.run()
		for err == errMigrate { // as Pump.run would, minus the new goroutine
			err = d.run()
		}
		ran <- err
	}()
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-ran
	})
	return &recordPump{raw: a, out: out, cli: cli, cc: cc}
}

// records returns the ciphertext of one TLS record per message.
func (r *recordPump) records(t *testing.T, msgs ...[]byte) [][]byte {
	var out [][]byte
	for _, m := range msgs {
		r.cc.mu.Lock()
		r.cc.capturing = true
		r.cc.mu.Unlock()
		if _, err := r.cli.Write(m); err != nil {
			t.Fatal(err)
		}
		r.cc.mu.Lock()
		r.cc.capturing = false
		out = append(out, bytes.Clone(r.cc.kept.Bytes()))
		r.cc.kept.Reset()
		r.cc.mu.Unlock()
	}
	return out
}

func (r *recordPump) send(t *testing.T, b []byte) {
	if _, err := r.raw.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (r *recordPump) expect(t *testing.T, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	r.out.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadFull(r.out, got); err != nil {
		t.Fatalf("waiting for %d bytes: %v", len(want), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A record that arrived whole is passed on at once, even when the rest of
// the socket read is the start of a record still on its way: the pump must
// not wait for it while holding decrypted bytes (a request/response peer
// would deadlock).
func TestRecordsPassedOnWithoutTheNext(t *testing.T) {
	r := newRecordPump(t)
	for _, cut := range []int{1, 3, 5, 6, 40} {
		first, second := []byte("first message"), []byte("second message, longer than forty bytes")
		recs := r.records(t, first, second)
		r.send(t, append(bytes.Clone(recs[0]), recs[1][:cut]...))
		r.expect(t, first)
		r.send(t, recs[1][cut:])
		r.expect(t, second)
	}
}

// Whatever pieces the ciphertext arrives in, every record is passed on as
// soon as its last byte arrived, and intact.
func TestRecordsInRandomPieces(t *testing.T) {
	r := newRecordPump(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var msgs [][]byte
	for i := range 60 {
		m := make([]byte, 1+rng.IntN(3*maxTLSRecord/2)) // some span two records
		for j := range m {
			m[j] = byte(i + j)
		}
		msgs = append(msgs, m)
	}
	recs := r.records(t, msgs...)
	var stream []byte
	var ends []int // where each message's last record ends in stream
	for _, rec := range recs {
		stream = append(stream, rec...)
		ends = append(ends, len(stream))
	}
	sent, next := 0, 0
	for sent < len(stream) {
		n := min(len(stream)-sent, 1+rng.IntN(20000))
		r.send(t, stream[sent:sent+n])
		sent += n
		for next < len(msgs) && ends[next] <= sent {
			r.expect(t, msgs[next])
			next++
		}
	}
}

// The fallbacks (a TLS source without a recordConn, a source that is no
// socket) carry every byte and the EOF, small writes and bulk alike.
func TestFallbackCopies(t *testing.T) {
	for name, pair := range map[string]func(testing.TB) (net.Conn, net.Conn){
		"tls":  tlsPair,
		"pipe": func(testing.TB) (net.Conn, net.Conn) { return net.Pipe() },
	} {
		t.Run(name, func(t *testing.T) {
			in, src := pair(t)
			dst, out := tcpPair(t)
			d := &direction{src: src, dst: dst, total: new(atomic.Uint64)}
			ran := make(chan error, 1)
			go func() { ran <- d.run() }()
			want := bytes.Repeat([]byte("0123456789abcdef"), 10000)
			go func() {
				in.Write(want[:10])
				in.Write(want[10:])
				CloseWrite(in)
				if _, ok := in.(*tls.Conn); !ok {
					in.Close() // a pipe has no half-close
				}
			}()
			out.SetReadDeadline(time.Now().Add(waitLimit))
			got, err := io.ReadAll(out)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes (%v), want %d", len(got), err, len(want))
			}
			if err := <-ran; err != nil {
				t.Fatal(err)
			}
		})
	}
}
