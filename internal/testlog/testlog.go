// Package testlog holds log output for a test to read. It is for tests
// only.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer is a log destination that goroutines (handshakes, tunnels) may
// write to while the test reads it; a bytes.Buffer alone would race. The
// zero Buffer is empty and ready for use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
