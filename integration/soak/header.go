package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// mode is the order in which the two sides of a transfer send and close.
type mode uint8

const (
	// clientFirst: the client sends its request and closes its side; the
	// backend reads to that end and only then replies and closes.
	clientFirst mode = iota + 1
	// backendFirst: the backend replies and closes its side at once; the
	// client reads the whole reply to its end while half of its request
	// is still unsent, then sends the rest and closes.
	backendFirst
	// bothAtOnce: both send at once and each closes when done.
	bothAtOnce
	// resetMidStream is an injected fault: the backend reads part of the
	// request, writes part of the reply, and resets the connection.
	resetMidStream
)

func (m mode) String() string {
	switch m {
	case clientFirst:
		return "client-first"
	case backendFirst:
		return "backend-first"
	case bothAtOnce:
		return "both"
	case resetMidStream:
		return "reset"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// headerSize is the fixed size of the header a transfer opens with.
const headerSize = 64

var headerMagic = [4]byte{'S', 'O', 'A', 'K'}

// header tells the backend what a transfer is: who it is (to report its
// findings to), which payloads to expect and send, and for an injected
// fault where to break.
type header struct {
	id             uint64
	mode           mode
	seed           uint64
	reqLen         int64 // request bytes the client sends
	respLen        int64 // reply bytes the backend sends
	resetAfterReq  int64 // resetMidStream: request bytes read before the reset
	resetAfterResp int64 // resetMidStream: reply bytes written before the reset
	// pause is a silence in the middle of the transfer, long enough for
	// the tunnels to park the idle direction and resume it when bytes
	// come again: in clientFirst the backend waits before it replies, in
	// backendFirst and bothAtOnce the client before the second half of
	// its request.
	pause time.Duration
}

// marshal lays the header out little-endian, ending in a CRC-32 of the
// rest, so that a header the tunnel damaged is told from a bad transfer.
func (h header) marshal() []byte {
	b := make([]byte, headerSize)
	copy(b, headerMagic[:])
	b[4] = byte(h.mode)
	binary.LittleEndian.PutUint16(b[6:], uint16(h.pause/time.Millisecond))
	binary.LittleEndian.PutUint64(b[8:], h.id)
	binary.LittleEndian.PutUint64(b[16:], h.seed)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.reqLen))
	binary.LittleEndian.PutUint64(b[32:], uint64(h.respLen))
	binary.LittleEndian.PutUint64(b[40:], uint64(h.resetAfterReq))
	binary.LittleEndian.PutUint64(b[48:], uint64(h.resetAfterResp))
	binary.LittleEndian.PutUint32(b[56:], crc32.ChecksumIEEE(b[:56]))
	return b
}

// errNoHeader is a connection that ended before its first byte: a flood
// or an aborted connection the tunnels passed on, not a transfer.
var errNoHeader = errors.New("connection ended before a header")

// readHeader reads and checks one header.
func readHeader(r io.Reader) (header, error) {
	b := make([]byte, headerSize)
	n, err := io.ReadFull(r, b)
	if n == 0 && err != nil {
		return header{}, fmt.Errorf("%w: %w", errNoHeader, err)
	}
	if err != nil {
		return header{}, fmt.Errorf("header cut after %d of %d bytes: %w", n, headerSize, err)
	}
	if [4]byte(b[:4]) != headerMagic || binary.LittleEndian.Uint32(b[56:]) != crc32.ChecksumIEEE(b[:56]) {
		return header{}, fmt.Errorf("header damaged: % x", b)
	}
	h := header{
		mode:           mode(b[4]),
		id:             binary.LittleEndian.Uint64(b[8:]),
		seed:           binary.LittleEndian.Uint64(b[16:]),
		reqLen:         int64(binary.LittleEndian.Uint64(b[24:])),
		respLen:        int64(binary.LittleEndian.Uint64(b[32:])),
		resetAfterReq:  int64(binary.LittleEndian.Uint64(b[40:])),
		resetAfterResp: int64(binary.LittleEndian.Uint64(b[48:])),
		pause:          time.Duration(binary.LittleEndian.Uint16(b[6:])) * time.Millisecond,
	}
	if h.mode < clientFirst || h.mode > resetMidStream {
		return header{}, fmt.Errorf("header with unknown mode %d", b[4])
	}
	return h, nil
}
