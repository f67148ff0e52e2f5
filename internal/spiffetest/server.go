// Package spiffetest is a SPIFFE Workload API for tests: a gRPC server on a
// unix socket speaking the real protocol (go-spiffe's generated service),
// which streams the X.509-SVID and bundle a test gives it and pushes a new
// one when the test rotates it, as a SPIRE agent does. Test support only:
// nothing that ships imports it.
package spiffetest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/passtunnel/passtunnel/internal/pkitest"
)

// SVID is one identity the server hands out: a SPIFFE ID and its
// certificate (leaf first) with the key.
type SVID struct {
	ID   string
	Cert tls.Certificate
}

// NewSVID issues an X.509-SVID for id ("spiffe://example.org/web") from ca,
// valid for both ends of a handshake.
func NewSVID(t testing.TB, ca *pkitest.Authority, id string) SVID {
	t.Helper()
	u, err := url.Parse(id)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(pkitest.LeafSpec{CommonName: u.Path, URIs: []*url.URL{u}, Server: true, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	return SVID{ID: id, Cert: cert}
}

// Server is one agent's Workload API, serving one workload.
type Server struct {
	// Addr is the address a workload dials: unix:///path.
	Addr string
	// Path is the socket's path.
	Path string
	// Refused counts requests without the security header
	// (workload.spiffe.io: true), which the server refuses as an agent does.
	Refused atomic.Int64

	workload.UnimplementedSpiffeWorkloadAPIServer
	grpc *grpc.Server
	mu   sync.Mutex
	cur  *workload.X509SVIDResponse
	subs map[chan struct{}]struct{}
}

// Start serves a Workload API on a fresh unix socket until the test ends.
// Push gives it an identity; until then streams wait, as an agent does
// before it has attested the workload.
func Start(t testing.TB) *Server {
	t.Helper()
	// A short directory: a unix socket's path is limited to 108 bytes.
	dir, err := os.MkdirTemp("", "spiffe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := At(t, filepath.Join(dir, "agent.sock"))
	return s
}

// At serves a Workload API on the unix socket path until the test ends.
func At(t testing.TB, path string) *Server {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: "unix://" + path, Path: path, grpc: grpc.NewServer(), subs: map[chan struct{}]struct{}{}}
	workload.RegisterSpiffeWorkloadAPIServer(s.grpc, s)
	go s.grpc.Serve(ln) //nolint:errcheck // ends with Stop
	t.Cleanup(s.Stop)
	return s
}

// Stop closes the socket and every stream, as an agent going away does.
func (s *Server) Stop() { s.grpc.Stop() }

// Push makes svid, with bundle as its trust domain's X.509 bundle, the
// identity the server gives, and sends it on every open stream: a rotation.
func (s *Server) Push(t testing.TB, svid SVID, bundle ...*x509.Certificate) {
	t.Helper()
	key, err := x509.MarshalPKCS8PrivateKey(svid.Cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, c := range bundle {
		b.Write(c.Raw)
	}
	resp := &workload.X509SVIDResponse{Svids: []*workload.X509SVID{{
		SpiffeId:    svid.ID,
		X509Svid:    bytes.Join(svid.Cert.Certificate, nil),
		X509SvidKey: key,
		Bundle:      b.Bytes(),
	}}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = resp
	for sub := range s.subs {
		select {
		case sub <- struct{}{}:
		default: // already told; it sends the latest
		}
	}
}

// FetchX509SVID streams the current identity, and each one pushed after.
func (s *Server) FetchX509SVID(_ *workload.X509SVIDRequest, stream workload.SpiffeWorkloadAPI_FetchX509SVIDServer) error {
	if md, _ := metadata.FromIncomingContext(stream.Context()); len(md.Get("workload.spiffe.io")) != 1 || md.Get("workload.spiffe.io")[0] != "true" {
		s.Refused.Add(1)
		return status.Error(codes.InvalidArgument, "security header missing from request")
	}
	sub := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	if s.cur != nil {
		sub <- struct{}{}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-sub:
		}
		s.mu.Lock()
		resp := s.cur
		s.mu.Unlock()
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}
