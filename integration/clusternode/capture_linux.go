//go:build linux

package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// record reads every frame on iface until deadline, flushing after each
// so that a kill loses at most the frame being written.
func record(iface string, f *os.File, deadline time.Time) error {
	index := 0 // "any": every interface of the namespace
	if iface != "any" {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		index = ifi.Index
	}
	const ethPAll = 0x0003
	proto := int(htons(ethPAll))
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, proto)
	if err != nil {
		return fmt.Errorf("packet socket: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: index}); err != nil {
		return fmt.Errorf("bind to %s: %w", iface, err)
	}
	tv := syscall.Timeval{Usec: 200000}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	fmt.Println("capturing", iface)
	w := bufio.NewWriter(f)
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if err := frame(w, buf[:n]); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
