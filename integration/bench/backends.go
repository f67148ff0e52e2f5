package main

import (
	"net"
	"sync/atomic"
)

// sink is a backend that reads and discards, counting every byte.
type sink struct {
	ln    net.Listener
	total atomic.Int64
}

func startSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{ln: ln}
	go acceptLoop(ln, func(c net.Conn) {
		buf := make([]byte, 256<<10)
		for {
			n, err := c.Read(buf)
			s.total.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	return s, nil
}

// startEcho is a backend on a free loopback port that writes back what it
// reads.
func startEcho() (net.Listener, error) { return startEchoAt("127.0.0.1:0") }

// startEchoAt is the echo backend on addr. It copies by hand: io.Copy
// would splice through a pipe, three descriptors per connection instead
// of one.
func startEchoAt(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go acceptLoop(ln, func(c net.Conn) {
		buf := make([]byte, 16<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	return ln, nil
}

func acceptLoop(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); serve(c) }()
	}
}
