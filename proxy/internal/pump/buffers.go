package pump

import "sync"

// The pump holds buffers only while bytes flow: what one read takes from a
// socket, the decrypted records of a TLS source gathered into one write,
// the records of one tls.Conn.Write gathered into one socket write. Each
// socket read or write costs a few microseconds however small it is
// (profiles of the bulk benchmarks are mostly syscalls), so the bigger the
// buffer, the fewer the calls; but a buffer is memory held per busy
// connection. Buffers therefore come in two sizes: bulkBufSize, and
// largeBufSize for a flow whose reads keep filling their buffer (see
// sockReader.attempt), where it cut the tunnel's CPU per GB by a fifth.
const (
	bulkBufSize  = 64 << 10  // four full TLS records
	largeBufSize = 256 << 10 // sixteen
	// batchSlack is room for the TLS overhead of one buffer's worth of
	// records: 22 bytes each in TLS 1.3, and crypto/tls cuts a
	// connection's first 128 KiB into records of about one TCP segment.
	batchSlack = 4 << 10
)

// bufPools hand out buffers of exactly these sizes; all tunnels share them.
var bufPools = [...]*sizedPool{
	newSizedPool(bulkBufSize),
	newSizedPool(bulkBufSize + batchSlack),
	newSizedPool(largeBufSize),
	newSizedPool(largeBufSize + batchSlack),
}

type sizedPool struct {
	size int
	sync.Pool
}

func newSizedPool(size int) *sizedPool {
	p := &sizedPool{size: size}
	p.New = func() any { b := make([]byte, size); return &b }
	return p
}

// getBuf returns a buffer of the smallest size that holds n bytes, or of
// the largest.
func getBuf(n int) *[]byte {
	for _, p := range bufPools[:len(bufPools)-1] {
		if n <= p.size {
			return p.Get().(*[]byte)
		}
	}
	return bufPools[len(bufPools)-1].Get().(*[]byte)
}

func putBuf(b *[]byte) {
	for _, p := range bufPools {
		if len(*b) == p.size {
			p.Put(b)
			return
		}
	}
}
