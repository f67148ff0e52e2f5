// Package pkitest issues throwaway certificates for tests: an in-memory
// certificate authority and the leaves it signs. It imports no project
// package, so that pki's own tests can use it too.
package pkitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// backdate starts certificates a little in the past, as pki does, so that
// a peer whose clock is behind does not reject a fresh one.
const backdate = 5 * time.Minute

// authorityValidity is long because the authority lives only in memory: it
// dies with the test, and its lifetime bounds every leaf it issues.
const authorityValidity = 10 * 365 * 24 * time.Hour

// Authority is an in-memory ECDSA P-256 certificate authority.
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
	// RSABits, when set, makes the leaf's key RSA of that size instead of
	// P-256: a key whose signature costs milliseconds (RSA 4096), for tests
	// that need handshakes to be expensive.
	RSABits int
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

// Issue makes a fresh key (P-256 unless spec.RSABits) and a leaf
// certificate for it. The chain holds the leaf only: peers are expected to
// trust the authority itself.
func (a *Authority) Issue(spec LeafSpec) (tls.Certificate, error) {
	key, err := leafKey(spec.RSABits)
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

// leafKey is a fresh RSA key of rsaBits, or P-256 for 0.
func leafKey(rsaBits int) (crypto.Signer, error) {
	if rsaBits > 0 {
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
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
func (a *Authority) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Cert.Raw})
}
