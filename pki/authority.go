package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Clock skew between hosts is real; certificates start a little in the past
// so a peer whose clock is behind does not reject a fresh one.
const backdate = 5 * time.Minute

// authorityValidity is long because the authority lives only in memory: it
// dies with the process, and its lifetime bounds every leaf it issues.
const authorityValidity = 10 * 365 * 24 * time.Hour

// Authority is an in-memory ECDSA P-256 certificate authority, used by
// `passtunnel demo`, by tests, and as the base of self-signed identities.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// LeafSpec describes a certificate to issue. With neither Server nor Client
// set the certificate carries no extended key usage, which RFC 5280 reads
// as "any purpose".
type LeafSpec struct {
	CommonName         string
	OrganizationalUnit []string
	DNSNames           []string
	IPAddresses        []net.IP
	URIs               []*url.URL
	Validity           time.Duration // default 24h
	Server, Client     bool
}

// NewAuthority makes a fresh CA key and its self-signed certificate.
func NewAuthority(commonName string) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(authorityValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs leaves only
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA %q: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA %q: %w", commonName, err)
	}
	return &Authority{Cert: cert, Key: key}, nil
}

// Issue makes a fresh P-256 key and a leaf certificate for it. The chain
// holds the leaf only: peers are expected to trust the authority itself.
func (a *Authority) Issue(spec LeafSpec) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key for %q: %w", spec.CommonName, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	validity := spec.Validity
	if validity <= 0 {
		validity = 24 * time.Hour
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: spec.CommonName, OrganizationalUnit: spec.OrganizationalUnit},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           extKeyUsage(spec),
		BasicConstraintsValid: true,
		DNSNames:              spec.DNSNames,
		IPAddresses:           spec.IPAddresses,
		URIs:                  spec.URIs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, key.Public(), a.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issue %q: %w", spec.CommonName, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse issued %q: %w", spec.CommonName, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func extKeyUsage(spec LeafSpec) []x509.ExtKeyUsage {
	var u []x509.ExtKeyUsage
	if spec.Server {
		u = append(u, x509.ExtKeyUsageServerAuth)
	}
	if spec.Client {
		u = append(u, x509.ExtKeyUsageClientAuth)
	}
	return u
}

// randomSerial is 128 random bits, as CA/B baseline asks (at least 64).
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return n, nil
}

// CertPEM is the authority's certificate in PEM, the content of a ca file.
func (a *Authority) CertPEM() []byte { return CertPEM(a.Cert.Raw) }

// CertPEM encodes one DER certificate as a PEM block.
func CertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// KeyPEM encodes a private key as PKCS#8 ("PRIVATE KEY"), which every
// current tool reads whatever the key type.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WriteKeyPair writes cert's chain to dir/name.crt (0644) and its key to
// dir/name.key (0600), the layout of a Kubernetes TLS secret when name is
// "tls". Each file is written to a temporary name and renamed into place, so
// a reader never sees a half-written file.
func WriteKeyPair(dir, name string, cert tls.Certificate) (certPath, keyPath string, err error) {
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return "", "", fmt.Errorf("write key pair %q: private key %T is not a crypto.Signer", name, cert.PrivateKey)
	}
	if len(cert.Certificate) == 0 {
		return "", "", fmt.Errorf("write key pair %q: no certificate", name)
	}
	keyPEM, err := KeyPEM(signer)
	if err != nil {
		return "", "", fmt.Errorf("write key pair %q: %w", name, err)
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, CertPEM(der)...)
	}
	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	if err := WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := WriteFileAtomic(certPath, chain, 0o644); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, renamed over path: a reader never sees half a file, and
// whatever path was (a symlink someone planted) is replaced, never
// followed. The temporary file is created 0600 (os.CreateTemp's mode,
// exclusively, under a random name), so key bytes are never readable by
// others, and widened to perm through its descriptor.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
