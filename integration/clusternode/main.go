// Command clusternode stands in for the daemons of a cluster in the
// transparent-mode tests: an unmodified program that knows its peers by
// their real addresses and dials them there, unaware of any tunnel.
//
//	clusternode node -listen ADDR -peers A,B,... -marker WORD [-rounds N] [-patience D]
//	clusternode capture -iface NAME -out FILE -for DURATION
//
// node echoes every line it accepts, and, after its listener is up, sends
// each peer rounds lines "WORD from ADDR to PEER #i" over a new connection
// per round and checks the echo; it prints "ok PEER" per peer that echoed
// every round, "fail PEER: ERR" otherwise, then keeps echoing until killed.
// capture records every frame seen on iface ("any": every interface of the
// network namespace; a bridge's own device sees only what is addressed to
// the bridge, its ports see what it forwards) into out, through an
// AF_PACKET socket,
// each frame as a 4-byte big-endian length and the bytes, until killed or
// the duration ends.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: clusternode node|capture [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "node":
		err = node(os.Args[2:])
	case "capture":
		err = capture(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusternode:", err)
		os.Exit(1)
	}
}

func node(args []string) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to echo on")
	peers := fs.String("peers", "", "comma-separated peer addresses to dial")
	marker := fs.String("marker", "", "word every line carries")
	rounds := fs.Int("rounds", 3, "connections per peer")
	patience := fs.Duration("patience", 10*time.Second, "how long to retry a peer that fails (it may not listen yet)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Println("listening", ln.Addr())
	go echo(ln)
	for _, p := range strings.Split(*peers, ",") {
		if p == "" {
			continue
		}
		if err := talk(p, *listen, *marker, *rounds, *patience); err != nil {
			fmt.Printf("fail %s: %v\n", p, err)
		} else {
			fmt.Printf("ok %s\n", p)
		}
	}
	fmt.Println("done")
	select {}
}

func echo(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			_, _ = io.Copy(c, c)
		}()
	}
}

// talk sends rounds lines to peer, one connection each, and checks each
// echo. Peers start in any order, so a failed round trip is retried for up
// to patience.
func talk(peer, self, marker string, rounds int, patience time.Duration) error {
	giveUp := time.Now().Add(patience)
	for i := 1; i <= rounds; i++ {
		line := fmt.Sprintf("%s from %s to %s #%d\n", marker, self, peer, i)
		err := roundTrip(peer, line)
		for err != nil && time.Now().Before(giveUp) {
			time.Sleep(100 * time.Millisecond)
			err = roundTrip(peer, line)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func roundTrip(peer, line string) error {
	c, err := net.DialTimeout("tcp", peer, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got != line {
		return errors.New("echo differs: " + strings.TrimSpace(got))
	}
	return nil
}

func capture(args []string) error {
	fs := flag.NewFlagSet("capture", flag.ContinueOnError)
	iface := fs.String("iface", "", "interface to record")
	out := fs.String("out", "", "file to write frames to")
	limit := fs.Duration("for", time.Minute, "stop after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	return record(*iface, f, time.Now().Add(*limit))
}

// frame writes one captured frame to w.
func frame(w io.Writer, b []byte) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}
