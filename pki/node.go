package pki

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultNodeValidity is the lifetime of a node certificate. It is short
// because nothing revokes one: a node cert outlives its process by at most
// this much.
const DefaultNodeValidity = 24 * time.Hour

// IssueNode makes a fresh Ed25519 key and a node certificate for it, valid
// from five minutes ago (clock skew) for validity (default 24h).
func (c *ClusterCA) IssueNode(node string, validity time.Duration) (tls.Certificate, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate node key: %w", err)
	}
	leaf, err := c.certifyNode(pub, node, validity, time.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// certifyNode signs a node certificate for pub.
func (c *ClusterCA) certifyNode(pub ed25519.PublicKey, node string, validity time.Duration, now time.Time) (*x509.Certificate, error) {
	if !dnsLabel.MatchString(node) {
		return nil, fmt.Errorf("invalid node name %q: use lower-case letters, digits and '-'", node)
	}
	if validity <= 0 {
		validity = DefaultNodeValidity
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	spiffe := &url.URL{Scheme: "spiffe", Host: c.cluster, Path: "/node/" + node}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{"passtunnel"},
			OrganizationalUnit: []string{c.cluster}, // so `allow { ou }` can name a cluster
			CommonName:         node,
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{node + "." + c.cluster + ".passtunnel.internal"},
		URIs:                  []*url.URL{spiffe},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, pub, c.key)
	if err != nil {
		return nil, fmt.Errorf("issue node certificate %q: %w", node, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse node certificate %q: %w", node, err)
	}
	return leaf, nil
}

// SanitizeNodeName turns a host name into a DNS label usable as a node
// name: the first label, lower-cased, other characters replaced by '-'.
func SanitizeNodeName(host string) string {
	host, _, _ = strings.Cut(strings.ToLower(host), ".")
	s := strings.Trim(strings.Map(func(r rune) rune {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return '-'
		}
		return r
	}, host), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		return "node"
	}
	return s
}

// nodeIdentity serves one node certificate to every handshake of the
// tunnels that share a passphrase (and previous passphrases). It re-issues
// lazily, from the handshake that first finds the certificate past 2/3 of
// its life, so no goroutine or timer has to be stopped.
//
// During a rotation the chain carries, after the certificate of the current
// passphrase, one certificate of the same key from each previous
// passphrase's CA. A peer that still knows only an old passphrase finds the
// one it trusts (verifyPeer accepts any certificate of the chain that
// certifies the key the handshake proved), so a cluster rolls to a new
// passphrase in two steps instead of three.
type nodeIdentity struct {
	cas      []*ClusterCA // current first
	name     string
	validity time.Duration
	now      func() time.Time

	cur atomic.Pointer[nodeCert]
	mu  sync.Mutex // one re-issue at a time; readers never wait on it
}

type nodeCert struct {
	cert    *tls.Certificate
	renewAt time.Time
}

func (n *nodeIdentity) certificate() (*tls.Certificate, error) {
	if c := n.cur.Load(); c != nil && n.now().Before(c.renewAt) {
		return c.cert, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	old := n.cur.Load()
	if old != nil && now.Before(old.renewAt) {
		return old.cert, nil // another handshake renewed it meanwhile
	}
	cert, err := n.issue(now)
	if err != nil {
		// A certificate that is still valid beats a failed handshake.
		if old != nil && now.Before(old.cert.Leaf.NotAfter) {
			return old.cert, nil
		}
		return nil, err
	}
	// Renew from the certificate's own NotAfter, not from now+validity:
	// X.509 keeps whole seconds, so a short-lived cert can end up to a
	// second earlier than asked, and renewing late would serve it expired.
	n.cur.Store(&nodeCert{cert: cert, renewAt: now.Add(cert.Leaf.NotAfter.Sub(now) * 2 / 3)})
	return cert, nil
}

// issue makes a fresh key: a renewal also rotates the key, which never
// lives longer than one certificate.
func (n *nodeIdentity) issue(now time.Time) (*tls.Certificate, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate node key: %w", err)
	}
	cert := &tls.Certificate{PrivateKey: key}
	for _, ca := range n.cas {
		leaf, err := ca.certifyNode(pub, n.name, n.validity, now)
		if err != nil {
			return nil, err
		}
		if cert.Leaf == nil {
			cert.Leaf = leaf
		}
		cert.Certificate = append(cert.Certificate, leaf.Raw)
	}
	return cert, nil
}
