package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"testing"
)

// tcpSegment is one TCP segment with a payload, as a capture saw it.
type tcpSegment struct {
	src, dst netip.AddrPort
	payload  []byte
}

// flowKey names one direction of a TCP connection.
func (s tcpSegment) flowKey() string { return s.src.String() + ">" + s.dst.String() }

// readCapture reads what `clusternode capture` wrote: frames, each a 4-byte
// big-endian length and the bytes.
func readCapture(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		if len(b) < 4+n {
			break // the capture was killed mid-frame
		}
		frames = append(frames, b[4:4+n])
		b = b[4+n:]
	}
	return frames
}

// tcpSegments parses the Ethernet frames that carry TCP over IPv4 or IPv6
// and a payload; others (ARP, handshakes without data) are skipped.
func tcpSegments(frames [][]byte) []tcpSegment {
	var out []tcpSegment
	for _, f := range frames {
		if s, ok := parseTCP(f); ok && len(s.payload) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func parseTCP(f []byte) (tcpSegment, bool) {
	if len(f) < 14 {
		return tcpSegment{}, false
	}
	etherType, ip := binary.BigEndian.Uint16(f[12:]), f[14:]
	var src, dst netip.Addr
	var tcp []byte
	switch {
	case etherType == 0x0800 && len(ip) >= 20 && ip[9] == 6:
		ihl, total := int(ip[0]&0x0f)*4, int(binary.BigEndian.Uint16(ip[2:]))
		if total > len(ip) || ihl > total {
			return tcpSegment{}, false
		}
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		tcp = ip[ihl:total]
	case etherType == 0x86dd && len(ip) >= 40 && ip[6] == 6:
		plen := int(binary.BigEndian.Uint16(ip[4:]))
		if 40+plen > len(ip) {
			return tcpSegment{}, false
		}
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		tcp = ip[40 : 40+plen]
	default:
		return tcpSegment{}, false
	}
	if len(tcp) < 20 || int(tcp[12]>>4)*4 > len(tcp) {
		return tcpSegment{}, false
	}
	sp, dp := binary.BigEndian.Uint16(tcp[0:]), binary.BigEndian.Uint16(tcp[2:])
	return tcpSegment{
		src:     netip.AddrPortFrom(src, sp),
		dst:     netip.AddrPortFrom(dst, dp),
		payload: tcp[int(tcp[12]>>4)*4:],
	}, true
}

// checkOnlyTLS fails t unless every TCP flow in segments starts with a TLS
// handshake record and no segment carries marker in the clear. It returns
// how many flows it saw, so that a capture of nothing proves nothing.
func checkOnlyTLS(t *testing.T, segments []tcpSegment, marker string) int {
	t.Helper()
	first := map[string][]byte{}
	for _, s := range segments {
		if bytes.Contains(s.payload, []byte(marker)) {
			t.Errorf("cleartext on the wire: %s carries %q", s.flowKey(), marker)
		}
		if _, seen := first[s.flowKey()]; !seen {
			first[s.flowKey()] = s.payload
		}
	}
	for flow, p := range first {
		if !isTLSRecord(p) {
			t.Errorf("flow %s starts with %s, not a TLS handshake record", flow, preview(p))
		}
	}
	return len(first)
}

// isTLSRecord reports a TLS handshake record header: type 22, version 3.x.
func isTLSRecord(p []byte) bool {
	return len(p) >= 5 && p[0] == 0x16 && p[1] == 3
}

func preview(p []byte) string {
	if len(p) > 16 {
		p = p[:16]
	}
	return fmt.Sprintf("%q", p)
}
