package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"math/rand/v2"
)

// Directions of a transfer: each has its own byte stream, so that a reply
// that echoed the request back would not pass for the reply.
const (
	dirRequest  = 0
	dirResponse = 1
)

// payload is the byte stream one side of a transfer sends: n bytes of
// ChaCha8 output keyed by the run's seed, the transfer and the direction.
// Both ends can make it again from the header alone, so neither keeps a
// copy of what was sent, however large the transfer.
type payload struct {
	gen  *rand.ChaCha8
	left int64
}

func newPayload(seed, id uint64, dir byte, n int64) *payload {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], id)
	key[16] = dir
	return &payload{gen: rand.NewChaCha8(key), left: n}
}

// Read fills p with the next bytes of the stream, io.EOF once all are out.
func (p *payload) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, _ := p.gen.Read(b)
	p.left -= int64(n)
	return n, nil
}

// sender writes a payload in pieces of random sizes, so that writes land
// across TLS records and socket buffers at every offset, and digests what
// it handed to the socket.
type sender struct {
	src  *payload
	rnd  *rand.Rand
	sum  hash.Hash
	sent int64
}

func newSender(src *payload, rnd *rand.Rand) *sender {
	return &sender{src: src, rnd: rnd, sum: sha256.New()}
}

// sendN writes the next n bytes of the payload to w (n < 0: all of it).
func (s *sender) sendN(w io.Writer, n int64, buf []byte) error {
	for n != 0 {
		chunk := buf[:1+s.rnd.IntN(len(buf))]
		if n > 0 && int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		k, err := s.src.Read(chunk)
		if err == io.EOF {
			return nil
		}
		m, err := w.Write(chunk[:k])
		s.sum.Write(chunk[:m])
		s.sent += int64(m)
		if err != nil {
			return err
		}
		if n > 0 {
			n -= int64(k)
		}
	}
	return nil
}

func (s *sender) digest() [32]byte { return [32]byte(s.sum.Sum(nil)) }

// checker receives one direction of a transfer: it digests what arrives
// and compares each byte with the payload it should be, so that a
// mismatch says how many bytes were wrong, not only that some were.
type checker struct {
	want      *payload
	wantLen   int64
	sum       hash.Hash
	got       int64 // bytes received
	corrupted int64 // received bytes that differ from the payload, or lie past its end
	scratch   []byte
}

func newChecker(want *payload, wantLen int64) *checker {
	return &checker{want: want, wantLen: wantLen, sum: sha256.New(), scratch: make([]byte, 32<<10)}
}

// Write takes received bytes; it never fails, so that io.Copy reports the
// connection's error and not the checker's.
func (c *checker) Write(p []byte) (int, error) {
	c.sum.Write(p)
	c.got += int64(len(p))
	for rest := p; len(rest) > 0; {
		chunk := rest[:min(len(rest), len(c.scratch))]
		k, _ := c.want.Read(c.scratch[:len(chunk)])
		c.corrupted += int64(len(chunk) - k) // past the payload's end
		if !bytes.Equal(chunk[:k], c.scratch[:k]) {
			for i := range k {
				if chunk[i] != c.scratch[i] {
					c.corrupted++
				}
			}
		}
		rest = rest[len(chunk):]
	}
	return len(p), nil
}

func (c *checker) digest() [32]byte { return [32]byte(c.sum.Sum(nil)) }

// lost is how many bytes of the payload did not arrive.
func (c *checker) lost() int64 { return max(0, c.wantLen-c.got) }

// checked is how many received bytes were compared with the payload.
func (c *checker) checked() int64 { return min(c.got, c.wantLen) }
