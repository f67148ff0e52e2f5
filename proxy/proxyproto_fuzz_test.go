package proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/pires/go-proxyproto"
)

// v2Sig opens every PROXY v2 header.
var v2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// v2Raw builds a v2 PROXY/TCP4 header by hand around body (the addresses
// and TLVs), so a seed can carry what go-proxyproto would never write.
func v2Raw(body []byte) []byte {
	b := append(bytes.Clone(v2Sig), 0x21, 0x11)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

// proxySeeds are well-formed v1 and v2 headers (v2 with TLVs), then
// truncated ones and one whose TLV overruns the header.
func proxySeeds(f *testing.F) [][]byte {
	v1, err := proxyproto.HeaderProxyFromAddrs(1, claimedClient, claimedDst).Format()
	if err != nil {
		f.Fatal(err)
	}
	v1six, err := proxyproto.HeaderProxyFromAddrs(1, claimedV6, claimedV6Dst).Format()
	if err != nil {
		f.Fatal(err)
	}
	h := proxyproto.HeaderProxyFromAddrs(2, claimedClient, claimedDst)
	if err := h.SetTLVs([]proxyproto.TLV{{Type: proxyproto.PP2_TYPE_ALPN, Value: []byte("h2")},
		{Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte("example.com")}}); err != nil {
		f.Fatal(err)
	}
	v2, err := h.Format()
	if err != nil {
		f.Fatal(err)
	}
	v2six, err := proxyproto.HeaderProxyFromAddrs(2, claimedV6, claimedV6Dst).Format()
	if err != nil {
		f.Fatal(err)
	}
	addrs := []byte{203, 0, 113, 7, 192, 0, 2, 1, 0x10, 0x92, 0x01, 0xbb}
	overrun := v2Raw(append(bytes.Clone(addrs), byte(proxyproto.PP2_TYPE_ALPN), 0x00, 0xff, 'h', '2'))
	local := append(bytes.Clone(v2Sig), 0x20, 0x00, 0x00, 0x00)
	return [][]byte{
		v1, append(bytes.Clone(v1), "GET / HTTP/1.1\r\n"...), v1six,
		[]byte("PROXY UNKNOWN\r\n"), []byte("PROXY TCP4 1.2.3.4\r\n"),
		v1[:len(v1)-3], []byte("PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n"),
		v2, append(bytes.Clone(v2), 0x16, 0x03, 0x01), v2six, local,
		v2[:len(v2)-4], v2[:14], overrun, v2Raw(addrs[:5]),
		[]byte("\x16\x03\x01\x00\x05hello"),
	}
}

// FuzzProxyHeader runs bytes through the PROXY header path of a tunnel that
// accepts headers: parse, then the checks before its addresses are
// believed. It must not panic, and a header it accepts must hold together.
func FuzzProxyHeader(f *testing.F) {
	for _, s := range proxySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		h, early, err := parseHeader(r)
		if err != nil {
			return
		}
		// What was read past the header, then what the conn still holds,
		// is the rest of the stream: not a byte lost, none read twice.
		tail := append(bytes.Clone(early), data[len(data)-r.Len():]...)
		if len(tail) >= len(data) || !bytes.HasSuffix(data, tail) {
			t.Fatalf("early bytes %q and unread %d bytes are not the tail of the input", early, r.Len())
		}
		for _, want := range []string{"any", "v1", "v2"} {
			err := checkHeader(h, want)
			if err != nil && errors.As(err, new(malformedHeader)) {
				continue
			}
			if err == nil && !h.Command.IsLocal() && h.SourceAddr == nil {
				t.Fatalf("accept %s: a PROXY header with no source address was believed", want)
			}
			if err == nil {
				if _, terr := h.TLVs(); terr != nil {
					t.Fatalf("accept %s: header believed with bad TLVs: %v", want, terr)
				}
			}
		}
	})
}
